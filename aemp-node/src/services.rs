//! The functions a node can run on request: spawn init functions and named functions.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use aemp_proto::Value;

use crate::context::{panic_text, run_in_port};
use crate::dataconn::DataFn;
use crate::{Node, PortId, StartError};

/// The functions every node answers without registering them.
fn built_in(func: &str) -> Option<FunctionFn> {
    match func {
        crate::logs::CONNECT_FUNCTION => Some(Arc::new(crate::logs::connect)),
        crate::stats::STATS_FUNCTION => Some(Arc::new(crate::stats::answer)),
        crate::dataconn::EXPECT_FUNCTION => Some(Arc::new(crate::dataconn::expect)),
        crate::dataconn::CONNECT_FUNCTION => Some(Arc::new(crate::dataconn::connect_back)),
        _ => None,
    }
}

/// An init function: runs in the context of a freshly spawned port and installs its
/// handlers.
pub(crate) type InitFn = Arc<dyn Fn(&Node, PortId, Vec<Value>) -> Result<(), String> + Send + Sync>;
/// A function remote nodes may call by name.
pub(crate) type FunctionFn = Arc<dyn Fn(&Node, Vec<Value>) + Send + Sync>;

/// The registered init functions and named functions of a node (fixed once it runs).
#[derive(Default, Clone)]
pub(crate) struct Services {
    pub(crate) inits: HashMap<String, InitFn>,
    pub(crate) functions: HashMap<String, FunctionFn>,
    pub(crate) data_functions: HashMap<String, DataFn>,
}

impl Services {
    /// Runs init function `func` for the new local port `port`; an unknown name or a
    /// failure kills the port with `["die", text]`.
    pub(crate) fn run_init(&self, node: &Node, port: PortId, func: &str, args: Vec<Value>) {
        let init = self.inits.get(func).cloned();
        let _ = run_in_port(node, &port.clone(), move || match init {
            Some(init) => init(node, port, args),
            None => Err(format!(
                "init function '{func}' is not registered on this node"
            )),
        });
    }

    /// The calls that start the configured services, checked before the node starts:
    /// each must name a registered function, and its arguments must convert.
    pub(crate) fn planned(
        &self,
        configured: &[aemp_config::Service],
    ) -> Result<Vec<(String, Vec<Value>)>, StartError> {
        configured
            .iter()
            .map(|service| {
                if !self.functions.contains_key(&service.name) {
                    let mut known: Vec<&str> = self.functions.keys().map(String::as_str).collect();
                    known.sort_unstable();
                    return Err(StartError::Setting {
                        key: "services",
                        reason: format!(
                            "unknown service {:?} (this node has: {})",
                            service.name,
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        ),
                    });
                }
                let args =
                    aemp_proto::to_values(&service.args).map_err(|e| StartError::Setting {
                        key: "services",
                        reason: format!("arguments of {:?}: {e}", service.name),
                    })?;
                Ok((service.name.clone(), args))
            })
            .collect()
    }

    /// The registered data function of that name.
    pub(crate) fn data_function(&self, func: &str) -> Option<DataFn> {
        self.data_functions.get(func).cloned()
    }

    /// Calls the named function (registered, or one every node has); unknown names and
    /// panics are logged.
    pub(crate) fn call(&self, node: &Node, func: &str, args: Vec<Value>) {
        let Some(f) = self.functions.get(func).cloned().or_else(|| built_in(func)) else {
            tracing::error!(%func, "call of a function that is not registered on this node ignored");
            return;
        };
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| f(node, args))) {
            tracing::error!(%func, panic = %panic_text(payload), "registered function panicked");
        }
    }
}
