// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// End to end over real processes: `carousel gen` writes a state, two `carousel serve` processes
// serve it on loopback, `carousel sync` syncs it over TCP — once straight through, once killed with
// SIGKILL halfway and run again, which resumes.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/state/state_diff.hpp>
#include <carousel/testing/temp_dir.hpp>

#include "child_process.hpp"
#include "cli_runner.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace carousel::test {
namespace {

namespace fs = std::filesystem;

struct Network {
    store::TempDir dir;
    std::vector<std::unique_ptr<Server>> servers;
    std::string root;

    Network() {
        const RunResult gen = run_carousel("gen --accounts 6000 --blocks 1 --seed 3 --out " +
                                           shell_quote((dir.path() / "chain").string()) + " --json");
        EXPECT_EQ(gen.exit_code, 0) << gen.err;
        for (int i = 0; i < 2; ++i) servers.push_back(std::make_unique<Server>(dir.path() / "chain"));
        root = servers[0]->root();
    }
    std::string peers() const {
        std::string p;
        for (const auto& s : servers) p += " --peer " + s->address();
        return p;
    }
};

TEST(Processes, SyncFromTwoServers) {
    Network net;
    ASSERT_FALSE(net.servers[0]->address().empty());
    ASSERT_EQ(net.servers[1]->root(), net.root);
    const fs::path db = net.dir.path() / "client";
    const RunResult r = run_carousel("sync" + net.peers() + " --root " + net.root + " --db " +
                                     shell_quote(db.string()) + " --json --timeout 120");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["complete"], true);
    EXPECT_EQ(j["root"], net.root);
    EXPECT_EQ(j["accounts"], 6000);
    EXPECT_GT(j["storage_tries"].get<uint64_t>(), 0U);
    // A fresh database holds few of the children the sync asks about: the node store's filter
    // answers most of those lookups without reading RocksDB.
    EXPECT_GT(j["node_lookups"]["filtered"].get<uint64_t>(), 10 * j["node_lookups"]["kv"].get<uint64_t>());
    // Both servers did work.
    for (const auto& [peer, st] : j["peers"].items()) EXPECT_GT(st["requests"].get<uint64_t>(), 0U) << peer;
    // Run again: everything is there; almost nothing is fetched.
    const RunResult again = run_carousel("sync" + net.peers() + " --root " + net.root + " --db " +
                                         shell_quote(db.string()) + " --json --timeout 60");
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_LT(nlohmann::json::parse(again.out)["bytes_received"].get<uint64_t>(), 1000U);
}

TEST(Processes, SyncKilledWithSigkillResumes) {
    Network net;
    ASSERT_FALSE(net.root.empty());
    const fs::path db = net.dir.path() / "client";
    // A sync from scratch first: how long a whole sync takes here, and what it fetches. Small
    // responses make it long enough to be killed in the middle.
    const auto t0 = std::chrono::steady_clock::now();
    const RunResult fresh =
        run_carousel("sync" + net.peers() + " --root " + net.root + " --db " +
                     shell_quote((net.dir.path() / "fresh").string()) + " --json --timeout 120 --max-response 2048");
    const auto whole = std::chrono::steady_clock::now() - t0;
    ASSERT_EQ(fresh.exit_code, 0) << fresh.err;

    const std::string args = "sync" + net.peers() + " --root " + net.root + " --db " + shell_quote(db.string()) +
                             " --json --timeout 120 --max-response 2048";
    const pid_t child = fork();
    if (child == 0) {
        const std::string cmd = shell_quote(CAROUSEL_BINARY) + " " + args + " >/dev/null 2>&1";
        execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    // Killed at about half of what a whole sync took (process start-up included in both).
    std::this_thread::sleep_for(whole / 2);
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the sync finished before it could be killed";

    const RunResult resumed = run_carousel(args);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    const auto j = nlohmann::json::parse(resumed.out);
    EXPECT_EQ(j["complete"], true);
    EXPECT_EQ(j["root"], net.root);
    // The resumed sync fetched less than one from scratch.
    EXPECT_LT(j["bytes_received"].get<uint64_t>(), nlohmann::json::parse(fresh.out)["bytes_received"].get<uint64_t>());
}

// Partial serving over TCP: client A syncs from the server and serves what it verified on its own
// port (`--listen`); client B has only A as a peer. B completes with every node verified, and once
// A is done it goes on serving until SIGTERM.
TEST(Processes, ASyncingClientServesOverTcp) {
    Network net;
    ASSERT_FALSE(net.root.empty());
    const fs::path a_db = net.dir.path() / "a";
    Child a{{"sync", "--peer", net.servers[0]->address(), "--root", net.root, "--db", a_db.string(), "--json",
             "--timeout", "120", "--max-response", "4096", "--listen", "127.0.0.1:0"},
            STDERR_FILENO};
    char address[128] = {};
    ASSERT_EQ(std::sscanf(a.first_line().c_str(), "carousel sync: serving on %127s", address), 1) << a.first_line();
    const RunResult b = run_carousel("sync --peer " + std::string{address} + " --root " + net.root + " --db " +
                                     shell_quote((net.dir.path() / "b").string()) + " --json --timeout 120");
    ASSERT_EQ(b.exit_code, 0) << b.err;
    const auto j = nlohmann::json::parse(b.out);
    EXPECT_EQ(j["complete"], true);
    EXPECT_EQ(j["root"], net.root);
    EXPECT_EQ(j["accounts"], 6000);
    ASSERT_EQ(j["peers"].size(), 1U);
    for (const auto& [peer, st] : j["peers"].items()) {
        EXPECT_GT(st["bytes"].get<uint64_t>(), 0U);
        EXPECT_EQ(st["rejected"].get<uint64_t>(), 0U);
    }
    EXPECT_EQ(a.stop(), 0);
    const std::string a_err = a.rest();
    unsigned long long requests = 0;
    const auto at = a_err.find("stopped serving; ");
    ASSERT_NE(at, std::string::npos) << a_err;
    ASSERT_EQ(std::sscanf(a_err.c_str() + at, "stopped serving; %llu requests", &requests), 1);
    EXPECT_GT(requests, 0U);
    // Its stop line counts the answers by kind, as carousel serve's does.
    EXPECT_NE(a_err.find(" 0x2 back-off, "), std::string::npos) << a_err;
    EXPECT_NE(a_err.find(" 0x4 invalid; "), std::string::npos) << a_err;
}

// A root the servers no longer have: `carousel gen` wrote 130 blocks, so genesis has left the
// servers' 128-root window and they answer 0x0 naming the head. Without --trust-root the client
// cannot take that root and stops with one line saying so; with it, it moves there and syncs the
// head, in both modes.
TEST(Processes, ARootOutOfTheWindowMovesToATrustedNewerOne) {
    store::TempDir dir;
    const RunResult gen = run_carousel("gen --accounts 2000 --blocks 130 --seed 4 --out " +
                                       shell_quote((dir.path() / "chain").string()) + " --json");
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    const auto g = nlohmann::json::parse(gen.out);
    const std::string genesis = g["genesis_root"];
    const std::string head = g["head_root"];
    Server server{dir.path() / "chain"};
    ASSERT_EQ(server.root(), head);
    const RunResult stuck = run_carousel("sync --peer " + server.address() + " --root " + genesis + " --db " +
                                         shell_quote((dir.path() / "stuck").string()) + " --json --timeout 60");
    EXPECT_EQ(stuck.exit_code, 1);
    EXPECT_EQ(nlohmann::json::parse(stuck.out)["complete"], false);
    // It says why (after a 15 s grace, well before the timeout), and which root the servers have.
    EXPECT_NE(stuck.err.find("no peer has root " + genesis), std::string::npos) << stuck.err;
    EXPECT_NE(stuck.err.find("naming " + head + "; pass --trust-root"), std::string::npos) << stuck.err;
    for (const std::string mode : {"full", "leaf"}) {
        const RunResult r = run_carousel("sync --peer " + server.address() + " --root " + genesis + " --trust-root " +
                                         head + " --mode " + mode + " --db " +
                                         shell_quote((dir.path() / mode).string()) + " --json --timeout 60");
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const auto j = nlohmann::json::parse(r.out);
        EXPECT_EQ(j["complete"], true) << mode;
        EXPECT_EQ(j["root"], head) << mode;
        EXPECT_EQ(j["root_moves"], 1) << mode;
        EXPECT_EQ(j["moved_from"], genesis) << mode;
        EXPECT_EQ(j["accounts"], g["accounts"]) << mode;
        EXPECT_EQ(j["slots"], g["slots"]) << mode;
    }
}

// Light mode through the CLI: one account of the state (by its 32-byte key, read from the genesis
// diff `carousel gen` wrote: its state is in hashed-key space) and one address that is not there.
TEST(Processes, LightSyncOfListedAccounts) {
    Network net;
    ASSERT_FALSE(net.root.empty());
    const fs::path genesis_path = net.dir.path() / "chain" / "blocks" / "00000000.rlp";
    std::string raw(static_cast<std::size_t>(fs::file_size(genesis_path)), '\0');
    std::ifstream genesis_file{genesis_path, std::ios::binary};
    genesis_file.read(raw.data(), static_cast<std::streamsize>(raw.size()));
    auto genesis = state::decode_state_diff(ByteView{reinterpret_cast<const uint8_t*>(raw.data()), raw.size()});
    ASSERT_TRUE(genesis);
    ASSERT_GT(genesis->accounts.size(), 100U);
    const Hash present = genesis->accounts[genesis->accounts.size() / 2].key;
    const fs::path list = net.dir.path() / "accounts.txt";
    {
        std::ofstream out{list};
        out << "# wanted\n" << to_hex_prefixed(view(present)) << "\n\n0x00000000000000000000000000000000000000aa\n";
    }
    const RunResult r = run_carousel("sync" + net.peers() + " --root " + net.root + " --db " +
                                     shell_quote((net.dir.path() / "light").string()) + " --accounts " +
                                     shell_quote(list.string()) + " --json --timeout 120");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["complete"], true);
    EXPECT_EQ(j["light"]["wanted"], 2);
    EXPECT_EQ(j["light"]["found"], 1);
    EXPECT_EQ(j["light"]["absent"], 1);
    EXPECT_EQ(j["light"]["accounts"][0]["key"], to_hex_prefixed(view(present)));
    EXPECT_EQ(j["light"]["accounts"][0]["found"], true);
    EXPECT_EQ(j["light"]["accounts"][1]["found"], false);
    EXPECT_LT(j["accounts"].get<uint64_t>(), 6000U / 2) << "only the chunks on the wanted paths";
    // The human summary says it is a light sync.
    const RunResult text = run_carousel("sync" + net.peers() + " --root " + net.root + " --db " +
                                        shell_quote((net.dir.path() / "light2").string()) + " --accounts " +
                                        shell_quote(list.string()) + " --timeout 120");
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("1 found, 1 absent"), std::string::npos) << text.out;
    // A bad line: one error line naming it, non-zero exit.
    {
        std::ofstream out{list};
        out << to_hex_prefixed(view(present)) << "\n0x12zz\n";
    }
    const RunResult bad =
        run_carousel("sync" + net.peers() + " --root " + net.root + " --db " +
                     shell_quote((net.dir.path() / "light3").string()) + " --accounts " + shell_quote(list.string()));
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.err.find("line 2"), std::string::npos) << bad.err;
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
}

// A peer that misbehaves at the TCP level, on a loopback port, on a thread of the test: each
// connection it accepts reads what the client sends and then, by `kind`, never answers (a stalling
// peer), answers a frame length outside 1..16 MiB, or starts a frame and closes in its middle; or,
// made with a server's port and a delay, it is a slow peer: a proxy to that server that holds what
// the server sends for the delay before passing it on.
class FakePeer {
  public:
    enum class Kind { kStall, kBadLength, kCloseMidFrame, kSlowProxy };
    FakePeer(uint16_t server_port, std::chrono::milliseconds delay) : FakePeer{Kind::kSlowProxy} {
        server_port_ = server_port;
        delay_ = delay;
    }
    explicit FakePeer(Kind kind) : kind_{kind} {
        listener_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (bind(listener_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(listener_, 16) != 0 ||
            getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            ADD_FAILURE() << "cannot listen";
            return;
        }
        address_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
        accepter_ = std::thread{[this] { accept_loop(); }};
    }
    ~FakePeer() {
        stopping_ = true;
        shutdown(listener_, SHUT_RDWR);
        close(listener_);
        if (accepter_.joinable()) accepter_.join();
        for (auto& t : connections_) t.join();
    }
    FakePeer(const FakePeer&) = delete;
    FakePeer& operator=(const FakePeer&) = delete;
    const std::string& address() const { return address_; }
    int accepted() const { return accepted_; }

  private:
    void accept_loop() {
        while (!stopping_) {
            pollfd p{listener_, POLLIN, 0};
            if (poll(&p, 1, 100) <= 0) continue;
            const int fd = accept(listener_, nullptr, nullptr);
            if (fd < 0) continue;
            ++accepted_;
            connections_.emplace_back([this, fd] { serve(fd); });
        }
    }
    // kSlowProxy: the client's bytes go to the server at once; the server's wait `delay_`.
    void proxy(int fd) {
        const int server = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(server_port_);
        std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> held;
        bool open = connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        char buf[65536];
        while (open && !stopping_) {
            const auto now = std::chrono::steady_clock::now();
            while (!held.empty() && held.front().first <= now) {
                if (send(fd, held.front().second.data(), held.front().second.size(), MSG_NOSIGNAL) < 0) open = false;
                held.pop_front();
            }
            const auto wait = held.empty() ? std::chrono::milliseconds{100}
                                           : std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 held.front().first - now + std::chrono::milliseconds{1});
            pollfd p[2] = {{fd, POLLIN, 0}, {server, POLLIN, 0}};
            if (poll(p, 2, static_cast<int>(wait.count())) <= 0) continue;
            if ((p[0].revents & (POLLIN | POLLHUP)) != 0) {
                const ssize_t n = recv(fd, buf, sizeof buf, 0);
                open = n > 0 && send(server, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) == n;
            }
            if (open && (p[1].revents & (POLLIN | POLLHUP)) != 0) {
                const ssize_t n = recv(server, buf, sizeof buf, 0);
                open = n > 0;
                if (open) held.emplace_back(now + delay_, std::string(buf, static_cast<std::size_t>(n)));
            }
        }
        close(server);
        close(fd);
    }
    void serve(int fd) {
        if (kind_ == Kind::kSlowProxy) {
            proxy(fd);
            return;
        }
        char buf[4096];
        // The client's first request (its length prefix at least).
        (void)recv(fd, buf, sizeof buf, 0);
        if (kind_ == Kind::kBadLength) {
            const uint8_t length[4] = {0xff, 0xff, 0xff, 0xff};
            (void)send(fd, length, sizeof length, MSG_NOSIGNAL);
        } else if (kind_ == Kind::kCloseMidFrame) {
            const uint8_t part[8] = {0, 0, 1, 0, 0x02, 0xc0, 0, 0};  // 256 bytes announced, 4 sent
            (void)send(fd, part, sizeof part, MSG_NOSIGNAL);
            close(fd);
            return;
        }
        // Reads (never answers) until the client closes or the test ends.
        while (!stopping_) {
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 100) > 0 && recv(fd, buf, sizeof buf, 0) <= 0) break;
        }
        close(fd);
    }

    Kind kind_;
    uint16_t server_port_{0};
    std::chrono::milliseconds delay_{0};
    int listener_{-1};
    std::string address_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
    std::thread accepter_;
    std::vector<std::thread> connections_;  // the accepter's only
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// What `file` holds now ("" if it cannot be read).
std::string file_text(const fs::path& file) {
    std::string text;
    if (FILE* f = std::fopen(file.c_str(), "r")) {
        char buf[4096];
        std::size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
        std::fclose(f);
    }
    return text;
}

// CPU seconds process `pid` has used (user and system, from /proc/PID/stat); 0 if unreadable.
double cpu_seconds(pid_t pid) {
    const std::string stat = file_text("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) return 0;
    std::istringstream fields{stat.substr(close + 2)};
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {  // fields 14 and 15 are utime and stime
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Waits (up to 30 s) until `server` has spent 0.15 s of CPU more than when called: a sync of net's
// state with 256-byte answers (about a second of the server's CPU) is then under way and not finished,
// whatever the machine's load (a fixed sleep from the start found it finished on a quiet machine).
void wait_until_under_way(Server& server) {
    const pid_t pid = server.child().pid();
    const double start = cpu_seconds(pid);
    const auto t0 = std::chrono::steady_clock::now();
    while (cpu_seconds(pid) < start + 0.15 && seconds_since(t0) < 30) {
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
}

// A full sync of net's root from `peers` (" --peer A --peer B ...") into a fresh database `name`, with
// 16 KiB answers; its --json summary.
nlohmann::json timed_sync(Network& net, const std::string& peers, const std::string& name) {
    const RunResult r =
        run_carousel("sync" + peers + " --root " + net.root + " --db " + shell_quote((net.dir.path() / name).string()) +
                     " --json --timeout 60 --max-response 16384");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
}

// Starts a sync of net's root from its first server alone into `db` (`extra` arguments added; its
// standard output on a pipe, its standard error to `err_file`), slowed by 256-byte answers so that it
// is in its middle when that server is killed with kill -9 (wait_until_under_way); returns once it is
// killed.
std::unique_ptr<Child> sync_then_kill_the_server(Network& net, const fs::path& db, std::vector<std::string> extra,
                                                 const fs::path& err_file) {
    std::vector<std::string> args{
        "sync",      "--peer", net.servers[0]->address(), "--root", net.root, "--db", db.string(),
        "--timeout", "60",     "--max-response",          "256"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto child = std::make_unique<Child>(args, STDOUT_FILENO, err_file, /*wait_for_first_line=*/false);
    wait_until_under_way(*net.servers[0]);
    net.servers[0]->kill9();
    return child;
}

// The only server is killed with kill -9 in the middle of a sync and started again on its port 3 s
// later: the sync dials it again (with back-off) and completes. (It waited for --timeout before.)
TEST(Processes, ServerKilledAndRestartedIsDialledAgain) {
    Network net;
    ASSERT_FALSE(net.root.empty());
    const std::string address = net.servers[0]->address();
    auto child = sync_then_kill_the_server(net, net.dir.path() / "client", {"--json"}, net.dir.path() / "sync.err");
    Child& sync = *child;
    std::this_thread::sleep_for(std::chrono::seconds{3});
    net.servers[0] =
        std::make_unique<Server>(net.dir.path() / "chain", std::vector<std::string>{}, fs::path{}, address);
    ASSERT_EQ(net.servers[0]->address(), address);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(sync.signal_and_wait(0), 0);
    EXPECT_LT(seconds_since(t0), 40);
    const auto j = nlohmann::json::parse(sync.first_line() + sync.rest());
    EXPECT_EQ(j["complete"], true);
    EXPECT_EQ(j["root"], net.root);
    EXPECT_EQ(j["accounts"], 6000);
    // One record for the peer, kept over its two connections.
    ASSERT_EQ(j["peers"].size(), 1U);
    EXPECT_EQ(j["peers"][address]["closed"], false);
}

// The only server is killed with kill -9 in the middle of a sync and does not come back: after
// --peer-wait the sync exits 1 with one line naming it and why it is gone, having saved what it
// verified (run again against a server, it fetches less than a sync from scratch).
TEST(Processes, ServerGoneForGoodEndsAfterPeerWaitAndKeepsTheWork) {
    Network net;
    ASSERT_FALSE(net.root.empty());
    const std::string address = net.servers[0]->address();
    const fs::path db = net.dir.path() / "client";
    const fs::path err_file = net.dir.path() / "sync.err";
    auto child = sync_then_kill_the_server(net, db, {"--peer-wait", "2"}, err_file);
    Child& sync = *child;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(sync.signal_and_wait(0), 1);
    EXPECT_LT(seconds_since(t0), 20);
    const std::string err = file_text(err_file);
    EXPECT_NE(err.find("carousel sync: no peer left (none connected for 2 s): " + address + ": "), std::string::npos)
        << err;
    const std::string again = "sync --peer " + net.servers[1]->address() + " --root " + net.root + " --json --db ";
    const RunResult resumed = run_carousel(again + shell_quote(db.string()));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    const RunResult fresh = run_carousel(again + shell_quote((net.dir.path() / "fresh").string()));
    ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
    EXPECT_LT(nlohmann::json::parse(resumed.out)["bytes_received"].get<uint64_t>(),
              nlohmann::json::parse(fresh.out)["bytes_received"].get<uint64_t>());
}

// Peers that break the framing: a length outside 1..16 MiB, a connection closed in the middle of a
// frame (two such peers). Each close costs the peer standing as a bad chunk does; they are dialled
// again until dropped, and the sync then exits non-zero with one line naming each peer and why.
TEST(Processes, PeersBreakingTheFramingAreDroppedAndTheSyncEnds) {
    store::TempDir dir;
    const std::string root = "0x" + std::string(64, 'a');
    {
        FakePeer bad{FakePeer::Kind::kBadLength};
        const auto t0 = std::chrono::steady_clock::now();
        const RunResult r = run_carousel("sync --peer " + bad.address() + " --root " + root + " --db " +
                                         shell_quote((dir.path() / "a").string()) + " --timeout 60");
        EXPECT_EQ(r.exit_code, 1) << r.err;
        EXPECT_LT(seconds_since(t0), 30);
        EXPECT_GE(bad.accepted(), 2) << "dialled again";
        // The summary's line for the peer says why it is gone, not only "dropped".
        EXPECT_NE(r.out.find("peer " + bad.address() + "    "), std::string::npos) << r.out;
        EXPECT_NE(r.out.find(" protocol violations; dropped: standing fell to"), std::string::npos) << r.out;
        EXPECT_NE(r.err.find("no peer left (every one dropped): " + bad.address() + ": dropped: standing fell to"),
                  std::string::npos)
            << r.err;
        EXPECT_NE(r.err.find("protocol violations); the last: frame length 4294967295 outside 1..16777216"),
                  std::string::npos)
            << r.err;
    }
    {
        FakePeer one{FakePeer::Kind::kCloseMidFrame};
        FakePeer two{FakePeer::Kind::kCloseMidFrame};
        const auto t0 = std::chrono::steady_clock::now();
        const RunResult r =
            run_carousel("sync --peer " + one.address() + " --peer " + two.address() + " --root " + root + " --db " +
                         shell_quote((dir.path() / "b").string()) + " --timeout 60 --mode leaf");
        EXPECT_EQ(r.exit_code, 1) << r.err;
        EXPECT_LT(seconds_since(t0), 30);
        for (const auto* peer : {&one, &two}) {
            EXPECT_NE(r.err.find(peer->address() + ": dropped: standing fell to"), std::string::npos) << r.err;
        }
        EXPECT_NE(r.err.find("the last: closed by peer in the middle of a frame"), std::string::npos) << r.err;
    }
}

// No peer can be reached: the sync waits --peer-wait for one, then exits non-zero naming each peer
// and why, and leaves no database directory behind.
TEST(Processes, NoPeerReachableEndsAfterPeerWait) {
    store::TempDir dir;
    int port = 0;
    {
        FakePeer closed{FakePeer::Kind::kStall};  // a free port, closed again
        port = std::stoi(closed.address().substr(closed.address().find(':') + 1));
    }
    const fs::path db = dir.path() / "never";
    const auto t0 = std::chrono::steady_clock::now();
    const RunResult r = run_carousel("sync --peer 127.0.0.1:" + std::to_string(port) + " --root 0x" +
                                     std::string(64, 'a') + " --db " + shell_quote(db.string()) + " --peer-wait 2");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_GE(seconds_since(t0), 2);
    EXPECT_LT(seconds_since(t0), 20);
    EXPECT_NE(
        r.err.find("no peer left (none connected for 2 s): 127.0.0.1:" + std::to_string(port) + ": cannot connect to"),
        std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(db)) << "a sync that reached no peer leaves no database directory";
}

// SIGINT and SIGTERM end a sync with one line, a final flush and 130 / 143; run again, it resumes.
TEST(Processes, SignalsEndTheSyncWithALineAndAFlush) {
    Network net;
    ASSERT_FALSE(net.root.empty());
    const fs::path db = net.dir.path() / "client";
    uint64_t fetched = 0;
    for (const int sig : {SIGINT, SIGTERM}) {
        // SIGINT's database is set aside (the second sync would finish before its signal).
        if (sig == SIGTERM) fs::rename(db, net.dir.path() / "interrupted");
        const fs::path err_file = net.dir.path() / ("sync-" + std::to_string(sig) + ".err");
        Child sync{{"sync", "--peer", net.servers[0]->address(), "--root", net.root, "--db", db.string(), "--json",
                    "--timeout", "60", "--max-response", "256"},
                   STDOUT_FILENO,
                   err_file,
                   /*wait_for_first_line=*/false};
        wait_until_under_way(*net.servers[0]);
        EXPECT_EQ(sync.signal_and_wait(sig), 128 + sig);
        const std::string err = file_text(err_file);
        EXPECT_NE(err.find("carousel sync: interrupted; "), std::string::npos) << err;
        EXPECT_NE(err.find(" MB verified and saved; run again to resume"), std::string::npos) << err;
    }
    const RunResult resumed = run_carousel("sync --peer " + net.servers[0]->address() + " --root " + net.root +
                                           " --db " + shell_quote(db.string()) + " --json --timeout 60");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    fetched = nlohmann::json::parse(resumed.out)["bytes_received"].get<uint64_t>();
    const RunResult fresh = run_carousel("sync --peer " + net.servers[0]->address() + " --root " + net.root + " --db " +
                                         shell_quote((net.dir.path() / "fresh").string()) + " --json --timeout 60");
    ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
    EXPECT_LT(fetched, nlohmann::json::parse(fresh.out)["bytes_received"].get<uint64_t>());
}

// One peer that takes requests and never answers, beside an honest one: its requests are hedged to
// the honest peer once they pass its measured round trip, so the sync takes about as long as from
// the honest peer alone (it waited out 10 s timeouts, retried on the same peer, before).
TEST(Processes, AStallingPeerIsHedgedAround) {
    Network net;
    ASSERT_FALSE(net.root.empty());
    FakePeer stall{FakePeer::Kind::kStall};
    const auto sync = [&](const std::string& peers, const std::string& name) { return timed_sync(net, peers, name); };
    const auto alone = sync(" --peer " + net.servers[0]->address(), "alone");
    const auto with_stall = sync(" --peer " + stall.address() + " --peer " + net.servers[0]->address(), "stalled");
    EXPECT_EQ(with_stall["complete"], true);
    EXPECT_GT(with_stall["peers"][stall.address()]["hedged"].get<uint64_t>(), 0U);
    EXPECT_EQ(with_stall["peers"][stall.address()]["answers"], 0);
    // Within 1.3x and a second (start-up, and the first round trips before the hedge can fire).
    EXPECT_LT(with_stall["seconds"].get<double>(), 1.3 * alone["seconds"].get<double>() + 1.0)
        << "alone " << alone["seconds"] << " s";
}

// A leaf-mode database synced at one root, synced again to a root 4 accounts away, heals from what
// it holds as full mode does (the same bytes); it fetched every leaf again before (11.3 MB against
// full mode's 0.44 MB at 100k accounts).
TEST(Processes, LeafModeHealsANearbyRootFromWhatItHolds) {
    store::TempDir dir;
    const RunResult gen = run_carousel(
        "gen --accounts 6000 --blocks 1 --seed 5 --accounts-per-block 4 "
        "--slots-per-block 4 --out " +
        shell_quote((dir.path() / "chain").string()) + " --json");
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    const auto g = nlohmann::json::parse(gen.out);
    Server server{dir.path() / "chain"};
    ASSERT_EQ(server.root(), g["head_root"]);
    // Syncs `root` in `mode` into the database of that mode.
    auto sync = [&](const std::string& mode, const nlohmann::json& root) {
        const RunResult r =
            run_carousel("sync --peer " + server.address() + " --root " + root.get<std::string>() + " --mode " + mode +
                         " --db " + shell_quote((dir.path() / mode).string()) + " --json --timeout 60");
        EXPECT_EQ(r.exit_code, 0) << r.err;
        const auto j = nlohmann::json::parse(r.out);
        EXPECT_EQ(j["complete"], true);
        EXPECT_EQ(j["root"], root);
        return j;
    };
    const auto leaf_first = sync("leaf", g["genesis_root"]);
    const auto leaf_heal = sync("leaf", g["head_root"]);
    (void)sync("full", g["genesis_root"]);
    const auto full_heal = sync("full", g["head_root"]);
    EXPECT_EQ(leaf_heal["healed_from"], g["genesis_root"]);
    EXPECT_LE(leaf_heal["bytes_received"].get<uint64_t>(), full_heal["bytes_received"].get<uint64_t>());
    EXPECT_LT(leaf_heal["bytes_received"].get<uint64_t>(), leaf_first["bytes_received"].get<uint64_t>() / 2);
}

// A peer that answers, but a second late, beside an honest one: what it holds while the honest
// peer sits idle is asked of the honest one too (past the best peer's round trip), so it does not
// hold up the top of the trie or the last requests (it added a second or more before).
TEST(Processes, ASlowPeerDoesNotHoldUpAnIdleOne) {
    Network net;
    ASSERT_FALSE(net.root.empty());
    const std::string honest = net.servers[0]->address();
    FakePeer slow{static_cast<uint16_t>(std::stoi(honest.substr(honest.find(':') + 1))),
                  std::chrono::milliseconds{1500}};
    const auto sync = [&](const std::string& peers, const std::string& name) { return timed_sync(net, peers, name); };
    const auto alone = sync(" --peer " + honest, "alone");
    const auto with_slow = sync(" --peer " + slow.address() + " --peer " + honest, "slow");
    EXPECT_EQ(with_slow["complete"], true);
    EXPECT_GT(with_slow["peers"][slow.address()]["hedged"].get<uint64_t>(), 0U);
    EXPECT_EQ(with_slow["peers"][honest]["late"], 0);
    EXPECT_LT(with_slow["seconds"].get<double>(), 1.3 * alone["seconds"].get<double>() + 1.0)
        << "alone " << alone["seconds"] << " s";
}

TEST(Processes, BadArgumentsGetOneLine) {
    RunResult r = run_carousel("sync --peer nowhere --root 0x12 --db /tmp/x");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("--root"), std::string::npos) << r.err;
    r = run_carousel("sync --peer 127.0.0.1:1 --root 0x" + std::string(64, '1') + " --db /tmp/x --listen nowhere");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("--listen nowhere: expected HOST:PORT"), std::string::npos) << r.err;
    r = run_carousel("sync --peer 127.0.0.1:1 --root 0x" + std::string(64, '1') + " --db /tmp/x --timeout -5");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("--timeout"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("-5"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    r = run_carousel("bogus");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("unknown command 'bogus'"), std::string::npos) << r.err;
    r = run_carousel("serve --db /nonexistent/carousel/db");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("/nonexistent/carousel/db"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace carousel::test
