//! The configuration commands of the `aemp` binary, run against a temporary rc file.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{json, Value};
use tempfile::TempDir;

/// A temporary directory holding the rc file the binary is pointed at.
struct Rc {
    dir: TempDir,
    path: PathBuf,
}

impl Rc {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aemp-rc.json");
        Rc { dir, path }
    }

    fn with(text: &str) -> Self {
        let rc = Rc::new();
        fs::write(&rc.path, text).unwrap();
        rc
    }

    fn backup(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push("~");
        PathBuf::from(name)
    }

    /// Runs `aemp ARGS...`.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_aemp"))
            .args(args)
            .env("PERL_ANYEVENT_MP_RC", &self.path)
            .env("HOME", self.dir.path())
            .output()
            .unwrap()
    }

    /// Runs `aemp ARGS...`, expects success, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "aemp {args:?} failed with {:?}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `aemp ARGS...`, expects failure, returns (exit code, stderr).
    fn fails(&self, args: &[&str]) -> (i32, String) {
        let out = self.run(args);
        assert!(!out.status.success(), "aemp {args:?} succeeded");
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn json(&self) -> Value {
        serde_json::from_str(&fs::read_to_string(&self.path).unwrap()).unwrap()
    }

    fn text(&self) -> String {
        fs::read_to_string(&self.path).unwrap()
    }
}

fn show(rc: &Rc, args: &[&str]) -> Value {
    serde_json::from_str(&rc.ok(args)).unwrap()
}

// ---- node ID, secret, certificate ------------------------------------------------------

#[test]
fn nodeid_set_and_delete() {
    let rc = Rc::new();
    rc.ok(&["setnodeid", "seed/%n"]);
    assert_eq!(rc.json()["nodeid"], "seed/%n");
    rc.ok(&["nodeid", "other"]);
    assert_eq!(rc.json()["nodeid"], "other");
    rc.ok(&["delnodeid"]);
    assert!(rc.json().get("nodeid").is_none());
    assert_eq!(rc.json()["version"], 1);
}

#[test]
fn nodeid_must_be_printable() {
    let rc = Rc::new();
    let (code, err) = rc.fails(&["setnodeid", "a#b"]);
    assert_eq!(code, 2);
    assert!(err.contains("a#b"), "{err}");
    assert!(!rc.path.exists());
}

#[test]
fn secret_set_generate_delete() {
    let rc = Rc::new();
    rc.ok(&["setsecret", "s3cr3t"]);
    assert_eq!(rc.json()["secret"], "s3cr3t");
    rc.ok(&["secret", "other"]);
    assert_eq!(rc.json()["secret"], "other");

    rc.ok(&["gensecret"]);
    let first = rc.json()["secret"].as_str().unwrap().to_owned();
    assert_eq!(first.len(), 88, "66 bytes in base64");
    assert!(first
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'));
    rc.ok(&["gensecret"]);
    assert_ne!(rc.json()["secret"], first.as_str());

    rc.ok(&["delsecret"]);
    assert!(rc.json().get("secret").is_none());
}

#[test]
fn cert_generate_set_delete() {
    let rc = Rc::new();
    rc.ok(&["gencert"]);
    let pem = rc.json()["cert"].as_str().unwrap().to_owned();
    assert!(pem.contains("-----BEGIN PRIVATE KEY-----"), "{pem}");
    assert!(pem.contains("-----BEGIN CERTIFICATE-----"), "{pem}");

    let file = rc.dir.path().join("node.pem");
    fs::write(&file, &pem).unwrap();
    rc.ok(&["delcert"]);
    assert!(rc.json().get("cert").is_none());
    rc.ok(&["setcert", file.to_str().unwrap()]);
    assert_eq!(rc.json()["cert"], pem.as_str());
    rc.ok(&["delcert", "cert", file.to_str().unwrap()]);
    assert_eq!(rc.json()["cert"], pem.as_str());
}

#[test]
fn setcert_refuses_files_without_key_or_certificate() {
    let rc = Rc::new();
    rc.ok(&["setsecret", "keep"]);
    let before = rc.text();
    let file = rc.dir.path().join("cert-only.pem");
    fs::write(
        &file,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let (code, err) = rc.fails(&["setcert", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("cert-only.pem") && err.contains("private key"),
        "{err}"
    );
    let (_, err) = rc.fails(&["setcert", "/no/such/file.pem"]);
    assert!(err.contains("/no/such/file.pem"), "{err}");
    assert_eq!(rc.text(), before);
}

// ---- seeds, binds, services ------------------------------------------------------------

#[test]
fn seeds_round_trip() {
    let rc = Rc::new();
    rc.ok(&["seeds", "*:4040"]);
    assert_eq!(rc.json()["seeds"], json!(["*:4040"]));
    rc.ok(&["setseeds", "a:1,b:2"]);
    assert_eq!(rc.json()["seeds"], json!(["a:1", "b:2"]));
    rc.ok(&["setseeds", r#"["c:3","d:4"]"#]);
    assert_eq!(rc.json()["seeds"], json!(["c:3", "d:4"]));
    rc.ok(&["addseed", "e:5", "addseed", "c:3"]);
    assert_eq!(rc.json()["seeds"], json!(["c:3", "d:4", "e:5"]));
    rc.ok(&["delseed", "d:4"]);
    assert_eq!(rc.json()["seeds"], json!(["c:3", "e:5"]));
    let out = rc.run(&["delseed", "zz:9"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("zz:9"));
    rc.ok(&["delseeds"]);
    assert!(rc.json().get("seeds").is_none());
}

#[test]
fn binds_round_trip_and_validation() {
    let rc = Rc::new();
    rc.ok(&["binds", r#"["127.0.0.1:4040"]"#]);
    assert_eq!(rc.json()["binds"], json!(["127.0.0.1:4040"]));
    // an IPv6 bind starts with '[', so it is given as a JSON string
    let (_, err) = rc.fails(&["addbind", "[::1]:9"]);
    assert!(err.contains(r#""[::1]:9""#), "{err}");
    rc.ok(&["setbinds", "*:1,4040", "addbind", r#""[::1]:9""#]);
    assert_eq!(rc.json()["binds"], json!(["*:1", "4040", "[::1]:9"]));
    rc.ok(&["delbind", "*:1"]);
    assert_eq!(rc.json()["binds"], json!(["4040", "[::1]:9"]));

    let before = rc.text();
    let (code, err) = rc.fails(&["setbinds", "localhost"]);
    assert_eq!(code, 1);
    assert!(err.contains("localhost"), "{err}");
    rc.fails(&["addbind", "host:99999"]);
    assert_eq!(rc.text(), before);

    rc.ok(&["delbinds"]);
    assert!(rc.json().get("binds").is_none());
}

#[test]
fn services_are_instances() {
    let rc = Rc::new();
    rc.ok(&["setservices", "A::,B::"]);
    assert_eq!(rc.json()["services"], json!(["A::", "B::"]));
    rc.ok(&["addservice", "A::"]);
    assert_eq!(rc.json()["services"], json!(["A::", "B::", "A::"]));
    rc.ok(&["delservice", "A::"]);
    assert_eq!(rc.json()["services"], json!(["B::", "A::"]));
    rc.ok(&["services", r#"["My::Service::"]"#]);
    assert_eq!(rc.json()["services"], json!(["My::Service::"]));
    rc.ok(&["delservices"]);
    assert!(rc.json().get("services").is_none());
}

#[test]
fn item_commands_change_only_the_targets_own_list() {
    let rc = Rc::new();
    rc.ok(&["seeds", "g:1", "profile", "p", "addseed", "p:2"]);
    assert_eq!(rc.json()["seeds"], json!(["g:1"]));
    assert_eq!(rc.json()["profile"]["p"]["seeds"], json!(["p:2"]));
    // deleting an inherited seed does not create an empty list that would hide it
    rc.ok(&["profile", "q", "delseed", "g:1"]);
    assert!(rc.json()["profile"]["q"].get("seeds").is_none());
}

// ---- protocol parameters ---------------------------------------------------------------

#[test]
fn parameters_round_trip() {
    let rc = Rc::new();
    rc.ok(&[
        "monitor_timeout",
        "12",
        "setconnect_interval",
        "0.5",
        "framing_format",
        "cbor,json",
        "auth_offer",
        r#"["hmac_sha3_512"]"#,
        "setauth_accept",
        "hmac_sha3_512,cleartext",
        "autocork",
        "yes",
        "nodelay",
        "0",
        "setsecure",
        "true",
    ]);
    let j = rc.json();
    assert_eq!(j["monitor_timeout"], json!(12));
    assert_eq!(j["connect_interval"], json!(0.5));
    assert_eq!(j["framing_format"], json!(["cbor", "json"]));
    assert_eq!(j["auth_offer"], json!(["hmac_sha3_512"]));
    assert_eq!(j["auth_accept"], json!(["hmac_sha3_512", "cleartext"]));
    assert_eq!(j["autocork"], json!(true));
    assert_eq!(j["nodelay"], json!(false));
    assert_eq!(j["secure"], json!(true));

    rc.ok(&[
        "delmonitor_timeout",
        "delconnect_interval",
        "delframing_format",
        "delauth_offer",
        "delauth_accept",
        "delautocork",
        "delnodelay",
        "delsecure",
    ]);
    assert_eq!(rc.json(), json!({"version": 1}));
}

#[test]
fn invalid_parameters_are_refused() {
    let rc = Rc::new();
    for args in [
        ["monitor_timeout", "0"],
        ["connect_interval", "soon"],
        ["secure", "maybe"],
        ["auth_offer", "[]"],
    ] {
        let (_, err) = rc.fails(&args);
        assert!(err.contains(args[0]), "{err}");
    }
    assert!(!rc.path.exists());
}

// ---- profiles and chaining -------------------------------------------------------------

#[test]
fn chain_applies_everything_in_one_call() {
    let rc = Rc::new();
    rc.ok(&[
        "setsecret",
        "S",
        "profile",
        "pp",
        "nodeid",
        "x",
        "binds",
        r#"["127.0.0.1:4040"]"#,
    ]);
    assert_eq!(
        rc.json(),
        json!({"version": 1, "secret": "S",
               "profile": {"pp": {"nodeid": "x", "binds": ["127.0.0.1:4040"]}}})
    );
}

#[test]
fn chain_like_the_original_example() {
    let rc = Rc::new();
    rc.ok(&[
        "gensecret",
        "profile",
        "xyz",
        "binds",
        "4040",
        "nodeid",
        "anon/",
    ]);
    let j = rc.json();
    assert!(j["secret"].is_string());
    assert_eq!(
        j["profile"]["xyz"],
        json!({"binds": ["4040"], "nodeid": "anon/"})
    );
}

#[test]
fn profile_alone_creates_it() {
    let rc = Rc::new();
    rc.ok(&["profile", "empty"]);
    assert_eq!(rc.json()["profile"]["empty"], json!({}));
}

#[test]
fn parents_and_cycles() {
    let rc = Rc::new();
    rc.ok(&[
        "seeds",
        "g:1",
        "profile",
        "base",
        "secret",
        "b",
        "binds",
        "*:1",
        "profile",
        "worker",
        "setparent",
        "base",
        "services",
        "W::",
    ]);
    assert_eq!(rc.json()["profile"]["worker"]["parent"], "base");
    let eff = show(&rc, &["showconfig", "worker"]);
    assert_eq!(eff["secret"], "b");
    assert_eq!(eff["binds"], json!(["*:1"]));
    assert_eq!(eff["seeds"], json!(["g:1"]));
    assert_eq!(eff["services"], json!(["W::"]));

    // base -> worker -> base is refused, and nothing is written
    let before = rc.text();
    let (code, err) = rc.fails(&["profile", "base", "parent", "worker"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("cycle") && err.contains("base -> worker -> base"),
        "{err}"
    );
    let (_, err) = rc.fails(&["profile", "solo", "setparent", "solo"]);
    assert!(err.contains("cycle"), "{err}");
    assert_eq!(rc.text(), before);

    rc.ok(&["profile", "worker", "delparent"]);
    assert!(rc.json()["profile"]["worker"].get("parent").is_none());
    let eff = show(&rc, &["showconfig", "worker"]);
    assert!(eff.get("secret").is_none());
}

#[test]
fn showconfig_reports_a_cycle_in_the_file() {
    let rc = Rc::with(r#"{"profile":{"a":{"parent":"b"},"b":{"parent":"a"}}}"#);
    let (code, err) = rc.fails(&["showconfig", "a"]);
    assert_eq!(code, 1);
    assert!(err.contains("a -> b -> a"), "{err}");
    assert!(err.contains(rc.path.to_str().unwrap()), "{err}");
}

#[test]
fn parent_commands_need_a_profile() {
    let rc = Rc::new();
    let (code, err) = rc.fails(&["setparent", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("profile"), "{err}");
    rc.fails(&["delparent"]);
}

#[test]
fn delprofile_and_showprofile() {
    let rc = Rc::new();
    rc.ok(&[
        "profile", "a", "seeds", "a:1", "profile", "b", "nodeid", "bee",
    ]);
    let a = show(&rc, &["showprofile", "a"]);
    assert_eq!(a, json!({"seeds": ["a:1"]}));
    rc.ok(&["delprofile", "a"]);
    assert!(rc.json()["profile"].get("a").is_none());
    assert!(rc.json()["profile"].get("b").is_some());
    let (code, err) = rc.fails(&["showprofile", "a"]);
    assert_eq!(code, 1);
    assert!(err.contains("\"a\""), "{err}");
}

// ---- showconfig ------------------------------------------------------------------------

#[test]
fn showconfig_prints_effective_configuration_with_defaults() {
    let rc = Rc::with(
        r#"{"version":1,"secret":"g","profile":{"p":{"binds":["*:4040"],"monitor_timeout":"10"}}}"#,
    );
    let out = rc.ok(&["showconfig", "p"]);
    assert!(out.contains("\n  \""), "pretty-printed: {out}");
    let eff: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(eff["secret"], "g");
    assert_eq!(eff["binds"], json!(["*:4040"]));
    assert_eq!(eff["monitor_timeout"], "10");
    assert_eq!(eff["connect_interval"], 2);
    assert_eq!(eff["nodeid"], "p/");
    assert_eq!(eff["auth_offer"], json!(["tls_sha3_512", "hmac_sha3_512"]));
    assert_eq!(
        eff["auth_accept"],
        json!(["tls_sha3_512", "hmac_sha3_512", "tls_anon", "cleartext"])
    );
    assert!(eff.get("profile").is_none() && eff.get("version").is_none());
}

#[test]
fn showconfig_key_values_force_and_norc() {
    let rc = Rc::with(r#"{"secret":"file","profile":{"p":{"seeds":["f:1"]}}}"#);
    let eff = show(
        &rc,
        &[
            "showconfig",
            "p",
            "secret",
            "prog",
            "services",
            r#"["S::"]"#,
        ],
    );
    assert_eq!(eff["secret"], "file");
    assert_eq!(eff["services"], json!(["S::"]));
    let eff = show(&rc, &["showconfig", "p", "secret", "prog", "force", "1"]);
    assert_eq!(eff["secret"], "prog");
    let eff = show(&rc, &["showconfig", "p", "secret", "prog", "norc", "1"]);
    assert_eq!(eff["secret"], "prog");
    assert!(eff.get("seeds").is_none());
    let (code, _) = rc.fails(&["showconfig", "p", "secret"]);
    assert_eq!(code, 2);
}

#[test]
fn showconfig_defaults_to_selected_profile_and_sees_pending_changes() {
    let rc = Rc::new();
    let eff = show(&rc, &["profile", "p", "nodeid", "pee", "showconfig"]);
    assert_eq!(eff["nodeid"], "pee");
    assert_eq!(rc.json()["profile"]["p"]["nodeid"], "pee");
    // without a profile: the host name's profile, whose default node ID is "HOST/"
    let eff = show(&rc, &["showconfig"]);
    assert!(eff["nodeid"].as_str().unwrap().ends_with('/'));
}

// ---- the file: atomic writes, unknown keys, unparsable files ------------------------------

#[test]
fn previous_file_is_kept_as_backup() {
    let rc = Rc::new();
    rc.ok(&["setsecret", "one"]);
    assert!(!rc.backup().exists());
    let first = rc.text();
    rc.ok(&["setsecret", "two"]);
    assert_eq!(fs::read_to_string(rc.backup()).unwrap(), first);
    assert_eq!(rc.json()["secret"], "two");
    // no temporary files left behind
    let names: Vec<_> = fs::read_dir(rc.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn show_commands_do_not_write() {
    let rc = Rc::with(r#"{"profile":{"p":{}}}"#);
    rc.ok(&["showconfig", "p"]);
    rc.ok(&["showprofile", "p"]);
    assert!(!rc.backup().exists());
    assert_eq!(rc.text(), r#"{"profile":{"p":{}}}"#);
}

#[test]
fn unknown_keys_and_order_are_preserved() {
    let rc = Rc::with(
        r#"{"zz-first":{"a":[1,{"b":null}]},"version":1,"secret":"s","x-tool":"keep me",
            "profile":{"p":{"custom":42,"nodeid":"n"},"q":{"other":"o"}}}"#,
    );
    rc.ok(&[
        "setseeds",
        "a:1",
        "profile",
        "p",
        "nodeid",
        "m",
        "addservice",
        "S::",
    ]);
    let j = rc.json();
    assert_eq!(j["zz-first"], json!({"a": [1, {"b": null}]}));
    assert_eq!(j["x-tool"], "keep me");
    assert_eq!(j["profile"]["p"]["custom"], 42);
    assert_eq!(j["profile"]["q"], json!({"other": "o"}));
    let keys: Vec<_> = j.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["zz-first", "version", "secret", "x-tool", "profile", "seeds"]
    );
    let pkeys: Vec<_> = j["profile"]["p"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(pkeys, ["custom", "nodeid", "services"]);
}

#[test]
fn unparsable_file_is_never_overwritten() {
    let text = "{\n  \"secret\": \"s\",\n  \"seeds\": [\"a:1\",\n}\n";
    let rc = Rc::with(text);
    for args in [
        &["setsecret", "x"][..],
        &["gensecret"],
        &["profile", "p", "seeds", "b:2"],
        &["showconfig"],
    ] {
        let (code, err) = rc.fails(args);
        assert_eq!(code, 1, "{args:?}");
        assert!(err.contains(rc.path.to_str().unwrap()), "{err}");
        assert!(err.contains("line 4"), "{err}");
    }
    assert_eq!(rc.text(), text);
    assert!(!rc.backup().exists());
}

#[test]
fn wrong_layout_is_never_overwritten() {
    let rc = Rc::with("[1, 2]");
    let (_, err) = rc.fails(&["setsecret", "x"]);
    assert!(err.contains("object"), "{err}");
    assert_eq!(rc.text(), "[1, 2]");
}

#[test]
fn a_failing_step_writes_nothing() {
    let rc = Rc::new();
    rc.ok(&["setsecret", "old"]);
    let before = rc.text();
    let (code, _) = rc.fails(&["setsecret", "new", "profile", "p", "setbinds", "nowhere"]);
    assert_eq!(code, 1);
    let (code, _) = rc.fails(&["setsecret", "new", "nosuchcommand"]);
    assert_eq!(code, 2);
    let (code, _) = rc.fails(&["setsecret", "new", "setseeds"]);
    assert_eq!(code, 2);
    assert_eq!(rc.text(), before);
}

#[test]
fn json_arguments() {
    let rc = Rc::new();
    rc.ok(&["setsecret", r#""quoted secret""#, "nodeid", r#""json/id""#]);
    assert_eq!(rc.json()["secret"], "quoted secret");
    assert_eq!(rc.json()["nodeid"], "json/id");
    let (code, err) = rc.fails(&["setseeds", r#"["a:1","#]);
    assert_eq!(code, 2);
    assert!(err.contains("JSON"), "{err}");
    let (code, _) = rc.fails(&["setnodeid", "[1]"]);
    assert_eq!(code, 2);
}

#[test]
fn home_directory_file_without_override() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_aemp"))
        .args(["setsecret", "h"])
        .env_remove("PERL_ANYEVENT_MP_RC")
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = fs::read_to_string(home.path().join(".perl-anyevent-mp")).unwrap();
    assert!(written.contains("\"h\""), "{written}");
}

// ---- help and the protocol commands ----------------------------------------------------

#[test]
fn help_for_the_tool_and_every_command() {
    let rc = Rc::new();
    for flag in ["--help", "-h", "help"] {
        let text = rc.ok(&[flag]);
        assert!(text.contains("aemp setseeds"), "{text}");
        assert!(text.contains("aemp showconfig"), "{text}");
    }
    let all = rc.ok(&["--help"]);
    let names: Vec<&str> = all
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("aemp "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect();
    assert!(names.len() > 40, "{names:?}");
    for name in names {
        let text = rc.ok(&[name, "--help"]);
        assert!(
            text.starts_with(&format!("usage: aemp {name}")),
            "{name}: {text}"
        );
        assert_eq!(rc.ok(&["help", name]), text);
    }
    assert!(rc
        .ok(&["seeds", "--help"])
        .starts_with("usage: aemp setseeds"));
    assert!(!rc.path.exists(), "help writes nothing");
}

#[test]
fn no_arguments_prints_usage_and_fails() {
    let (code, err) = Rc::new().fails(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("usage: aemp"), "{err}");
}

#[test]
fn unknown_command_is_a_usage_error() {
    let (code, err) = Rc::new().fails(&["frobnicate"]);
    assert_eq!(code, 2);
    assert!(err.contains("frobnicate"), "{err}");
}
