//! Receive handlers of callback ports: `rcv` with and without a tag.

use std::sync::{Arc, Mutex};

use crate::shared::{lock, Callbacks, Handler, PortEntry};
use crate::{Error, Message, Node, Outcome, PortId};

fn handler<F, R>(mut f: F) -> Handler
where
    F: FnMut(Message) -> R + Send + 'static,
    R: Outcome,
{
    Arc::new(Mutex::new(move |m: Message| f(m).into_failure()))
}

impl Node {
    /// Creates a port with a default handler (the original's `port { ... }`).
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let port = node.port_with(|msg| println!("got {msg}"));
    /// node.snd(&port, ("anything",))?;
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn port_with<F, R>(&self, f: F) -> PortId
    where
        F: FnMut(Message) -> R + Send + 'static,
        R: Outcome,
    {
        let port = self.port();
        // The port is new and alive: installing its handler cannot fail.
        let _ = self.install(&port, None, Some(handler(f)));
        port
    }

    /// Sets the default handler of a local port: it gets every message no tag handler
    /// takes, whole. It replaces the previous default handler. A panic or an `Err` result
    /// kills the port with `["die", text]`.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let port = node.port();
    /// node.rcv(&port, |msg| -> Result<(), String> {
    ///     let (tag, n): (String, i64) = msg.decode().map_err(|e| e.to_string())?;
    ///     println!("{tag}: {n}");
    ///     Ok(())
    /// })?;
    /// assert!(node.rcv(&"elsewhere#p".into(), |_m| {}).is_err());
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "receive")]
    pub fn rcv<F, R>(&self, port: &PortId, f: F) -> Result<(), Error>
    where
        F: FnMut(Message) -> R + Send + 'static,
        R: Outcome,
    {
        self.install(port, None, Some(handler(f)))
    }

    /// Sets the handler for messages whose first value is the string `tag`; it receives
    /// the message without its tag. It replaces the previous handler of that tag.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let server = node.port();
    /// node.rcv_tag(&server, "privmsg", |msg| {
    ///     let (nick, text): (String, String) = msg.decode().unwrap();
    ///     println!("{nick}: {text}");
    /// })?;
    /// node.snd(&server, ("privmsg", "nick", "hi"))?;
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rcv_tag<F, R>(&self, port: &PortId, tag: &str, f: F) -> Result<(), Error>
    where
        F: FnMut(Message) -> R + Send + 'static,
        R: Outcome,
    {
        self.install(port, Some(tag), Some(handler(f)))
    }

    /// Removes the default handler of a local port.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let port = node.port_with(|_m| {});
    /// node.unrcv(&port)?;
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unrcv(&self, port: &PortId) -> Result<(), Error> {
        self.install(port, None, None)
    }

    /// Removes the handler of `tag` from a local port.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let port = node.port();
    /// node.rcv_tag(&port, "t", |_m| {})?;
    /// node.unrcv_tag(&port, "t")?;
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unrcv_tag(&self, port: &PortId, tag: &str) -> Result<(), Error> {
        self.install(port, Some(tag), None)
    }

    /// Sets or removes one handler of a live local callback port.
    fn install(&self, port: &PortId, tag: Option<&str>, h: Option<Handler>) -> Result<(), Error> {
        if !self.port_is_local(port) {
            return Err(Error::NotLocal(port.clone()));
        }
        let core = self.shared.core();
        if !core.port_exists(port.name()) {
            return Err(Error::NoSuchPort(port.clone()));
        }
        let mut reg = lock(&self.shared.reg);
        let entry = reg.ports.entry(port.name().to_owned()).or_insert_with(|| {
            PortEntry::Callbacks(Callbacks {
                id: port.clone(),
                default: None,
                tags: Default::default(),
            })
        });
        let PortEntry::Callbacks(cbs) = entry else {
            return Err(Error::NotCallbackPort(port.clone()));
        };
        match (tag, h) {
            (None, h) => cbs.default = h,
            (Some(tag), Some(h)) => {
                cbs.tags.insert(tag.to_owned(), h);
            }
            (Some(tag), None) => {
                cbs.tags.remove(tag);
            }
        }
        Ok(())
    }
}
