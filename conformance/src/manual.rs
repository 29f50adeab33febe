//! A handshake done by hand on a [`RawConn`], for what a [`Connection`] does not do on
//! purpose: asymmetric framings, unknown framing names, CR LF line ends, wrong secrets.
//!
//! [`Connection`]: aemp_proto::Connection

use std::time::Instant;

use aemp_proto::handshake::{
    auth_line, nonce_line, verify_auth_line, AuthPolicy, Greeting, Transcript,
};
use aemp_proto::{AuthMethod, Framing};

use crate::client::{Peer, Session, HMAC};
use crate::ctx::{random_nonce, Ctx, WAIT};
use crate::outcome::Failure;
use crate::raw::{excerpt, RawConn};

/// Our greeting for a hand-made handshake.
#[derive(Clone, Debug)]
pub struct Hello {
    /// Our node ID.
    pub node_id: String,
    /// The framing names in our greeting line 1 (what we ask the target to send).
    pub framings: Vec<String>,
    /// The line end we use.
    pub eol: &'static str,
}

impl Hello {
    /// A fresh node ID, the given framing names, LF line ends.
    pub fn new(ctx: &Ctx, framings: &[&str]) -> Hello {
        Hello {
            node_id: ctx.fresh_node_id(),
            framings: framings.iter().map(|f| (*f).to_owned()).collect(),
            eol: "\n",
        }
    }
}

/// Both greetings have been exchanged; the auth lines have not.
#[derive(Debug)]
pub struct Exchanged {
    /// The connection, positioned after the target's nonce line.
    pub conn: RawConn,
    /// What we sent.
    pub hello: Hello,
    /// Our two greeting lines, without line ends.
    pub local: [Vec<u8>; 2],
    /// The target's two greeting lines, without line ends.
    pub remote: [Vec<u8>; 2],
    /// The target's line 1, parsed.
    pub greeting: Greeting,
    /// The stream's channel binding (empty over TCP).
    pub binding: Vec<u8>,
}

/// Connects, sends our greeting and reads the target's.
pub fn exchange(ctx: &Ctx, hello: Hello) -> Result<Exchanged, Failure> {
    let mut conn = RawConn::connect(ctx)?;
    let mut kv = ctx.greeting_kv();
    kv.push(("mproto".into(), "1".into()));
    kv.push(("gproto".into(), "1".into()));
    let line1 = Greeting {
        protocol: "aemp".into(),
        node_id: hello.node_id.clone(),
        auth_accept: vec![HMAC.into()],
        framings: hello.framings.clone(),
        kv,
    }
    .to_line();
    let line2 = nonce_line(&random_nonce());
    conn.send(format!("{line1}{eol}{line2}{eol}", eol = hello.eol).as_bytes())?;
    let remote = conn.read_greeting(Instant::now() + WAIT)?;
    let greeting = Greeting::parse(&remote[0])
        .map_err(|e| Failure::expected("a valid greeting line 1 from the target", e.to_string()))?;
    Ok(Exchanged {
        binding: conn.binding(),
        conn,
        hello,
        local: [line1.into_bytes(), line2.into_bytes()],
        remote,
        greeting,
    })
}

impl Exchanged {
    fn transcript(&self) -> Transcript<'_> {
        Transcript {
            local: [&self.local[0], &self.local[1]],
            remote: [&self.remote[0], &self.remote[1]],
            binding: &self.binding,
        }
    }

    /// Our `hmac_sha3_512` auth line (without line end) for this secret, announcing `send`.
    pub fn auth_line(&self, secret: &[u8], send: Framing) -> Result<String, Failure> {
        auth_line(
            AuthMethod::HmacSha3_512,
            Some(secret),
            self.transcript(),
            send,
        )
        .map_err(|e| Failure::expected("to compute our auth line", e.to_string()))
    }

    /// Sends our auth line (the run's secret, sending in `send`), checks the target's and
    /// returns the authenticated peer.
    pub fn authenticate(mut self, ctx: &Ctx, send: Framing) -> Result<Peer, Failure> {
        if !self.greeting.auth_accept.iter().any(|m| m == HMAC) {
            return Err(Failure::expected(
                format!("the target to accept {HMAC}"),
                format!("accept list {:?}", self.greeting.auth_accept),
            ));
        }
        let secret = &ctx.options().secret;
        let line = self.auth_line(secret, send)?;
        self.conn
            .send(format!("{line}{}", self.hello.eol).as_bytes())?;
        let theirs = self
            .conn
            .read_line("the target's auth line", Instant::now() + WAIT)?;
        let known: Vec<Framing> = self
            .hello
            .framings
            .iter()
            .filter_map(|name| Framing::from_name(name))
            .collect();
        let policy = AuthPolicy {
            secret: Some(secret),
            accept: &[HMAC.to_owned()],
            framings: &known,
            tls_active: false,
        };
        let verified = verify_auth_line(&theirs, self.transcript(), policy).map_err(|e| {
            Failure::expected(
                format!("a valid auth line naming one of {:?}", self.hello.framings),
                format!("{} ({e})", excerpt(&theirs)),
            )
        })?;
        let session = Session {
            node_id: self.hello.node_id,
            target_id: self.greeting.node_id,
            send_framing: send,
            recv_framing: verified.framing,
            method: verified.method.name().to_owned(),
        };
        let (stream, leftover) = self.conn.into_parts();
        Ok(Peer::from_manual(stream, &leftover, session))
    }
}
