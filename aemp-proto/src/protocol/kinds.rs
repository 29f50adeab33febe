//! The table of request kinds: every tag of the node port, once.

/// Declares [`RequestKind`] from `Kind = "tag"` pairs, with the lookups both ways.
macro_rules! request_kinds {
    ($($(#[$doc:meta])* $kind:ident = $tag:literal,)*) => {
        /// The kind of a node-port request: one per tag the node understands.
        ///
        /// ```
        /// use aemp_proto::protocol::RequestKind;
        /// assert_eq!(RequestKind::from_tag("g_upd"), Some(RequestKind::UpdateDb));
        /// assert_eq!(RequestKind::UpdateDb.tag(), "g_upd");
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum RequestKind {
            $($(#[$doc])* $kind,)*
        }

        impl RequestKind {
            /// Every kind, in the table's order.
            pub const ALL: &'static [RequestKind] = &[$(RequestKind::$kind,)*];

            /// The tag on the wire.
            ///
            /// ```
            /// # use aemp_proto::protocol::RequestKind;
            /// assert_eq!(RequestKind::Monitor.tag(), "mon1");
            /// ```
            pub fn tag(self) -> &'static str {
                match self {
                    $(RequestKind::$kind => $tag,)*
                }
            }

            /// The kind with this tag, if the node understands it.
            ///
            /// ```
            /// # use aemp_proto::protocol::RequestKind;
            /// assert_eq!(RequestKind::from_tag("mon0"), Some(RequestKind::Unmonitor));
            /// assert_eq!(RequestKind::from_tag("some_function"), None);
            /// ```
            pub fn from_tag(tag: &str) -> Option<RequestKind> {
                match tag {
                    $($tag => Some(RequestKind::$kind),)*
                    _ => None,
                }
            }
        }
    };
}

request_kinds! {
    /// `devnull ...`: ignored (also the empty tag).
    Devnull = "devnull",
    /// `mon1 PORT`: tell the sender when PORT dies.
    Monitor = "mon1",
    /// `mon0 PORT`: stop telling it.
    Unmonitor = "mon0",
    /// `kil0 PORT REASON...`: a port the receiver monitored died.
    PortDied = "kil0",
    /// `kil1 PORT REASON...`: kill PORT.
    Kill = "kil1",
    /// `snd PORT MSG...`: send MSG to PORT from here.
    Send = "snd",
    /// `can REQUEST REPLY...`: whether REQUEST is understood.
    Can = "can",
    /// `time REPLY...`: the wall clock.
    Time = "time",
    /// `eval CODE REPLY...`: run Perl code (Rust nodes answer only `aemp trace`'s).
    Eval = "eval",
    /// `AnyEvent::MP::_spawn PORT FUNC ARGS...`: create PORT and run FUNC in it.
    Spawn = "AnyEvent::MP::_spawn",
    /// `g_slave [DB]`: make the receiver the sender's master (global role).
    Slave = "g_slave",
    /// `g_global`: the sender is a global node.
    Global = "g_global",
    /// `g_set DB`: all of the sender's entries (between globals).
    SetDb = "g_set",
    /// `g_upd FAMILY SET [DEL]`: a change of the sender's entries.
    UpdateDb = "g_upd",
    /// `g_find NODE`: where NODE listens.
    Find = "g_find",
    /// `g_found NODE ADDRESSES`: the answer to `g_find`.
    Found = "g_found",
    /// `g_db_family FAMILY ID`: the whole family.
    QueryFamily = "g_db_family",
    /// `g_db_keys FAMILY ID`: the family's keys.
    QueryKeys = "g_db_keys",
    /// `g_db_values FAMILY ID`: the family's values.
    QueryValues = "g_db_values",
    /// `g_reply ID RESULT`: the answer to a query.
    Reply = "g_reply",
    /// `g_mon1 FAMILY`: watch FAMILY.
    Watch = "g_mon1",
    /// `g_mon0 FAMILY`: stop watching it.
    Unwatch = "g_mon0",
    /// `g_chg1 FAMILY ENTRIES`: a watched family, whole.
    FamilyIs = "g_chg1",
    /// `g_chg2 FAMILY SET DEL`: a change of a watched family.
    FamilyChanged = "g_chg2",
}
