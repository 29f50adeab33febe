%% aemp_baseline: Erlang/OTP distribution baseline for the aemp-bench workloads.
%%
%% Two OS processes, two Erlang nodes, loopback TCP:
%%
%%   node A (the "driver", started by run.sh)  -- runs the senders and the clock
%%   node B (the "peer", started by node A)    -- hosts the registered receivers
%%
%% Node A starts node B itself (an `erl` OS process spawned through a port), waits
%% for B to report in, and then runs, in this order:
%%
%%   rss        VmRSS of node B's OS process after it is up, connected and idle
%%   oneway 16  N messages {m, Seq, Payload} (16-byte binary) to {aemp_sink, B}
%%   oneway 1k  the same with a 1024-byte binary
%%   pingpong   N round trips {ping, From, Seq, Payload16} -> {aemp_echo, B} -> {pong, Seq, Payload16}
%%   local      N messages {m, Seq, Payload16} between two processes on node A
%%
%% and prints, on stdout, exactly one line per workload:
%%
%%   oneway payload=16 n=N secs=S msgs_per_s=R
%%   oneway payload=1024 n=N secs=S msgs_per_s=R mb_per_s=M
%%   pingpong n=N mean_us=A p50_us=B p99_us=C
%%   local payload=16 n=N msgs_per_s=R
%%   rss_idle_kib=K
%%
%% Informational lines (versions, node names) go to stderr, prefixed with "#".
%%
%% Entry points (called by `erl -run`, arguments arrive as strings):
%%   main(["key=value", ...])   driver, on node A
%%   peer([DriverNode])         peer, on node B (started by main/1, not by hand)
%%
%% Recognised driver arguments (all optional):
%%   n=N            sets every N below at once (handy for a quick smoke test)
%%   oneway16=N     messages in the 16-byte one-way run
%%   oneway1024=N   messages in the 1024-byte one-way run
%%   pingpong=N     round trips in the ping-pong run
%%   local=N        messages in the local run
%%   ebin=DIR       where aemp_baseline.beam lives (run.sh passes it; node B needs it)
%%
%% Only default settings of the Erlang distribution are used; the one flag is
%% `-kernel inet_dist_use_interface {127,0,0,1}` so that the distribution
%% listener binds to loopback only (see README.md).
-module(aemp_baseline).

-export([main/1, peer/1]).

%% Default sizes, picked so that each workload takes roughly 2-5 s on a small
%% (2-core) Linux VM.  Override them on the command line.
-define(DEFAULT_ONEWAY16, 800000).
-define(DEFAULT_ONEWAY1024, 400000).
-define(DEFAULT_PINGPONG, 60000).
-define(DEFAULT_LOCAL, 5000000).

%% Untimed warm-up before each timed run (connection set-up, JIT, allocators).
-define(WARMUP_MSGS, 20000).
-define(WARMUP_RTTS, 2000).

-define(DRIVER, aemp_baseline_driver).  % registered name of the driver on A
-define(SINK, aemp_sink).               % one-way receiver on B
-define(ECHO, aemp_echo).               % ping-pong responder on B
-define(LOCAL_SINK, aemp_local_sink).   % one-way receiver on A (local run)

-define(PEER_START_TIMEOUT, 30000).
-define(RUN_TIMEOUT, 600000).

%%====================================================================
%% Driver (node A)
%%====================================================================

main(Args) ->
    %% Run the driver in its own process so that init is not blocked; the
    %% driver always ends the node with erlang:halt/1.
    spawn(fun() ->
                  Status = try driver(parse_args(Args))
                           catch Class:Reason:Stack ->
                                   err("driver failed: ~p:~p~n~p", [Class, Reason, Stack]),
                                   2
                           end,
                  erlang:halt(Status)
          end),
    ok.

parse_args(Args) ->
    Defaults = #{oneway16 => ?DEFAULT_ONEWAY16,
                 oneway1024 => ?DEFAULT_ONEWAY1024,
                 pingpong => ?DEFAULT_PINGPONG,
                 local => ?DEFAULT_LOCAL,
                 ebin => filename:dirname(code:which(?MODULE))},
    lists:foldl(fun parse_arg/2, Defaults, Args).

parse_arg(Arg, Acc) ->
    case string:split(Arg, "=") of
        ["n", V] ->
            N = to_count(V),
            Acc#{oneway16 := N, oneway1024 := N, pingpong := N, local := N};
        ["ebin", Dir] ->
            Acc#{ebin := Dir};
        [K, V] when K =:= "oneway16"; K =:= "oneway1024"; K =:= "pingpong"; K =:= "local" ->
            Acc#{list_to_atom(K) := to_count(V)};
        _ ->
            throw({bad_argument, Arg})
    end.

to_count(V) ->
    case string:to_integer(V) of
        {N, ""} when N > 0 -> N;
        _ -> throw({bad_count, V})
    end.

driver(Opts) ->
    true = register(?DRIVER, self()),
    info("otp=~s erts=~s schedulers=~p node=~p",
         [erlang:system_info(otp_release), erlang:system_info(version),
          erlang:system_info(schedulers_online), node()]),
    {PeerNode, PeerOsPid, Owner} = start_peer(maps:get(ebin, Opts)),
    info("peer node=~p os_pid=~s", [PeerNode, PeerOsPid]),
    try
        %% Idle memory of the second OS process: up, connected, nothing sent yet.
        timer:sleep(1000),
        RssKib = vm_rss_kib(PeerOsPid),

        Size16 = 16, Size1k = 1024,
        {N16, Secs16} = oneway({?SINK, PeerNode}, maps:get(oneway16, Opts), Size16),
        out("oneway payload=16 n=~b secs=~.3f msgs_per_s=~b",
            [N16, Secs16, round(N16 / Secs16)]),

        {N1k, Secs1k} = oneway({?SINK, PeerNode}, maps:get(oneway1024, Opts), Size1k),
        Rate1k = N1k / Secs1k,
        out("oneway payload=1024 n=~b secs=~.3f msgs_per_s=~b mb_per_s=~.2f",
            [N1k, Secs1k, round(Rate1k), Rate1k * Size1k / 1.0e6]),

        {NPP, Lat} = pingpong({?ECHO, PeerNode}, maps:get(pingpong, Opts)),
        {Mean, P50, P99} = latency_stats(Lat),
        out("pingpong n=~b mean_us=~.2f p50_us=~.2f p99_us=~.2f", [NPP, Mean, P50, P99]),

        {NL, SecsL} = local(maps:get(local, Opts), Size16),
        out("local payload=16 n=~b msgs_per_s=~b", [NL, round(NL / SecsL)]),

        out("rss_idle_kib=~b", [RssKib]),
        0
    catch
        throw:{sequence_error, What} ->
            err("sequence check failed: ~p", [What]),
            1
    after
        stop_peer(PeerNode, PeerOsPid, Owner)
    end.

%%--------------------------------------------------------------------
%% Starting and stopping node B
%%--------------------------------------------------------------------

%% Node B gets a name derived from node A's (same unique suffix, same host),
%% the same cookie, and loopback-only distribution.  It is spawned through a
%% port whose owner relays B's output to our stderr.  B's stdin is that port's
%% pipe: when node A goes away, B reads EOF and halts (see peer/1).
start_peer(Ebin) ->
    [AName, Host] = string:split(atom_to_list(node()), "@"),
    BName = peer_name(AName) ++ "@" ++ Host,
    Erl = filename:join([code:root_dir(), "bin", "erl"]),
    PeerArgs = ["-noshell",
                "-name", BName,
                "-setcookie", atom_to_list(erlang:get_cookie()),
                "-kernel", "inet_dist_use_interface", "{127,0,0,1}",
                "-pa", Ebin,
                "-run", atom_to_list(?MODULE), "peer", atom_to_list(node())],
    Driver = self(),
    Owner = spawn_link(fun() -> port_owner(Driver, Erl, PeerArgs) end),
    receive
        {peer_ready, PeerNode, OsPid} ->
            {PeerNode, OsPid, Owner};
        {peer_exited, Status} ->
            throw({peer_failed_to_start, {exit_status, Status}})
    after ?PEER_START_TIMEOUT ->
            throw(peer_start_timeout)
    end.

peer_name("aemp_bl_a" ++ Suffix) -> "aemp_bl_b" ++ Suffix;
peer_name(Other) -> Other ++ "_peer".

port_owner(Driver, Erl, Args) ->
    process_flag(trap_exit, true),
    Port = open_port({spawn_executable, Erl},
                     [{args, Args}, exit_status, use_stdio, stderr_to_stdout, binary]),
    port_loop(Driver, Port).

port_loop(Driver, Port) ->
    receive
        {Port, {data, Data}} ->
            io:put_chars(standard_error, [<<"# peer: ">>, Data]),
            port_loop(Driver, Port);
        {Port, {exit_status, Status}} ->
            Driver ! {peer_exited, Status};
        {'EXIT', Driver, _} ->
            catch port_close(Port)
    end.

stop_peer(PeerNode, OsPid, _Owner) ->
    %% Ask B to halt, wait for its OS process to exit; kill it as a last resort.
    spawn(PeerNode, erlang, halt, [0]),
    receive
        {peer_exited, _Status} -> ok
    after 5000 ->
            err("peer did not exit, killing os pid ~s", [OsPid]),
            os:cmd("kill -9 " ++ OsPid)
    end.

%%--------------------------------------------------------------------
%% Workloads
%%--------------------------------------------------------------------

%% One-way throughput to the registered sink on node B.  The sink checks that
%% Seq runs 1..N without gaps or reordering and replies once after message N.
%% Time: first send -> receipt of that reply.
oneway(Dest, N, Size) ->
    Payload = payload(Size),
    _ = oneway_run(Dest, ?WARMUP_MSGS, Payload),
    {N, oneway_run(Dest, N, Payload)}.

oneway_run(Dest, N, Payload) ->
    Dest ! {start, self(), N, byte_size(Payload)},
    receive {sink_ready, _} -> ok after ?RUN_TIMEOUT -> throw(sink_not_ready) end,
    T0 = erlang:monotonic_time(),
    send_loop(Dest, 1, N, Payload),
    T1 = await_done(N),
    secs(T1 - T0).

send_loop(_Dest, Seq, N, _Payload) when Seq > N ->
    ok;
send_loop(Dest, Seq, N, Payload) ->
    Dest ! {m, Seq, Payload},
    send_loop(Dest, Seq + 1, N, Payload).

await_done(N) ->
    receive
        {sink_done, N} -> erlang:monotonic_time();
        {sink_error, Expected, Got} -> throw({sequence_error, {expected, Expected, got, Got}})
    after ?RUN_TIMEOUT ->
            throw(sink_timeout)
    end.

%% Ping-pong latency: one outstanding request at a time; each round trip is
%% timed on its own.  Returns the list of round-trip times in native units.
pingpong(Dest, N) ->
    Payload = payload(16),
    _ = pingpong_loop(Dest, 1, ?WARMUP_RTTS, Payload, []),
    {N, pingpong_loop(Dest, 1, N, Payload, [])}.

pingpong_loop(_Dest, Seq, N, _Payload, Acc) when Seq > N ->
    Acc;
pingpong_loop(Dest, Seq, N, Payload, Acc) ->
    T0 = erlang:monotonic_time(),
    Dest ! {ping, self(), Seq, Payload},
    receive
        {pong, Seq, _} -> ok;
        {pong, Other, _} -> throw({sequence_error, {expected, Seq, got, Other}})
    after ?RUN_TIMEOUT ->
            throw(echo_timeout)
    end,
    T1 = erlang:monotonic_time(),
    pingpong_loop(Dest, Seq + 1, N, Payload, [T1 - T0 | Acc]).

%% Local one-way throughput: the same sink code, registered on node A, fed by
%% the driver process (also on node A).
local(N, Size) ->
    Sink = spawn_link(fun sink/0),
    true = register(?LOCAL_SINK, Sink),
    Payload = payload(Size),
    _ = oneway_run(?LOCAL_SINK, ?WARMUP_MSGS, Payload),
    Secs = oneway_run(?LOCAL_SINK, N, Payload),
    unlink(Sink),
    Sink ! stop,
    {N, Secs}.

%%--------------------------------------------------------------------
%% Helpers
%%--------------------------------------------------------------------

payload(Size) ->
    list_to_binary([I rem 256 || I <- lists:seq(1, Size)]).

secs(Native) ->
    erlang:convert_time_unit(Native, native, nanosecond) / 1.0e9.

%% Mean, p50, p99 in microseconds.  Percentiles are nearest-rank:
%% the value at 1-based rank ceil(P/100 * N) in the sorted sample.
latency_stats(NativeList) ->
    Us = lists:sort([erlang:convert_time_unit(T, native, nanosecond) / 1000.0
                     || T <- NativeList]),
    N = length(Us),
    Mean = lists:sum(Us) / N,
    Tuple = list_to_tuple(Us),
    Rank = fun(P) -> element(max(1, ceil(P * N / 100)), Tuple) end,
    {Mean, Rank(50), Rank(99)}.

vm_rss_kib(OsPid) ->
    {ok, Bin} = file:read_file("/proc/" ++ OsPid ++ "/status"),
    [Line] = [L || L <- binary:split(Bin, <<"\n">>, [global]),
                   binary:match(L, <<"VmRSS:">>) =:= {0, 6}],
    [_, Kib | _] = string:lexemes(binary_to_list(Line), " \t"),
    list_to_integer(Kib).

out(Fmt, Args) -> io:format(standard_io, Fmt ++ "~n", Args).
info(Fmt, Args) -> io:format(standard_error, "# " ++ Fmt ++ "~n", Args).
err(Fmt, Args) -> io:format(standard_error, "error: " ++ Fmt ++ "~n", Args).

%%====================================================================
%% Peer (node B)
%%====================================================================

peer([DriverNodeStr]) ->
    DriverNode = list_to_atom(DriverNodeStr),
    true = register(?SINK, spawn(fun sink/0)),
    true = register(?ECHO, spawn(fun echo/0)),
    %% Halt when the driver node goes away: either its connection drops...
    spawn(fun() ->
                  {?DRIVER, DriverNode} ! {peer_ready, node(), os:getpid()},
                  true = erlang:monitor_node(DriverNode, true),
                  receive {nodedown, DriverNode} -> erlang:halt(0) end
          end),
    %% ...or our stdin (the driver's port pipe) is closed.
    spawn(fun stdin_watchdog/0),
    ok.

stdin_watchdog() ->
    case io:get_line('') of
        eof -> erlang:halt(0);
        {error, _} -> erlang:halt(0);
        _ -> stdin_watchdog()
    end.

%% One-way receiver, used on node B (remote runs) and on node A (local run).
%%   {start, From, N, Size}  -> replies {sink_ready, self()}, then expects
%%   {m, 1, P} .. {m, N, P} with byte_size(P) == Size, in that order, and replies
%%   {sink_done, N} -- or {sink_error, Expected, Got} at the first violation.
%% The receive takes whatever message is first in the mailbox, so reordering
%% is detected rather than papered over by a selective receive.
sink() ->
    receive
        {start, From, N, Size} ->
            From ! {sink_ready, self()},
            sink(From, 1, N, Size);
        stop ->
            ok
    end.

sink(From, Seq, N, _Size) when Seq > N ->
    From ! {sink_done, N},
    sink();
sink(From, Seq, N, Size) ->
    receive
        {m, Seq, Payload} when byte_size(Payload) =:= Size ->
            sink(From, Seq + 1, N, Size);
        Other ->
            %% Any other message at the head of the mailbox is a violation.
            From ! {sink_error, Seq, Other},
            sink()
    end.

%% Ping-pong responder: echoes sequence number and payload back to the sender.
echo() ->
    receive
        {ping, From, Seq, Payload} ->
            From ! {pong, Seq, Payload},
            echo();
        stop ->
            ok
    end.
