// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

// SimGridNet's wall cost per frame against the number of nodes (issue 21 wants 10,000 nodes in 30
// minutes, so the cost of a frame must not grow with n). Reported: seconds of real time per 1,000
// frames delivered (s_per_1k_frames) and the frames delivered (frames); run each n three times and
// read the median:
//
//   carousel_bench --benchmark_filter=simgrid_net_ --benchmark_repetitions=3
//
// n echo endpoints: each dials kPeers random others at a random instant of the first second; the
// dialer puts kInFlight frames of kFrameSize bytes on each connection once it is up, and both ends
// send every frame they get straight back, so each connection keeps kInFlight frames going (queued
// behind one another, SimGridNet moving one at a time per direction) until kSimulated. Links: 100
// Mbit/s both ways, 10-49 ms one way, SimGrid's default network model with a latency factor of 1.

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include <carousel/net/simgrid_net.hpp>

namespace carousel::net {
namespace {

constexpr int kPeers = 4;
constexpr int kInFlight = 4;
constexpr std::size_t kFrameSize = 1000;
constexpr proto::Time kSimulated = std::chrono::seconds{3};

class Echo final : public proto::Endpoint {
  public:
    void on_dialed(const proto::Address&, proto::PeerId peer, proto::Time) override {
        for (int i = 0; i < kInFlight; ++i) send(peer, Bytes(kFrameSize, 0x01));
    }
    void on_frame(proto::PeerId from, ByteView frame, proto::Time) override { send(from, Bytes{frame}); }
    void dial_to(const proto::Address& to) { dial(to); }
};

void simgrid_net_echo(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    uint64_t frames = 0;
    double seconds = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop variable is unused by design
        const auto start = std::chrono::steady_clock::now();
        SimGridOptions options;
        options.config = {"network/latency-factor:1", "contexts/stack-size:256"};
        SimGridNet net{options};
        std::vector<std::unique_ptr<Echo>> endpoints;
        std::mt19937_64 rng{1};  // NOLINT(cert-msc32-c,cert-msc51-cpp): the same network in every run
        for (std::size_t i = 0; i < n; ++i) {
            endpoints.push_back(std::make_unique<Echo>());
            SimNodeOptions node;
            node.link.latency = std::chrono::milliseconds{10 + static_cast<int64_t>(rng() % 40)};
            net.add_node(*endpoints.back(), node);
        }
        for (std::size_t i = 0; i < n; ++i) {
            std::vector<proto::Address> peers;
            while (peers.size() < kPeers) {
                const std::size_t p = rng() % n;
                if (p != i) peers.push_back(SimGridNet::address_of(p));
            }
            const proto::Time at{std::chrono::microseconds{static_cast<int64_t>(rng() % 1'000'000)}};
            Echo* e = endpoints[i].get();
            net.schedule(i, at, [e, peers] {
                for (const auto& p : peers) e->dial_to(p);
            });
        }
        net.run(kSimulated);
        for (std::size_t i = 0; i < n; ++i) frames += net.counters(i).frames_received.total.frames;
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    state.counters["frames"] = static_cast<double>(frames) / static_cast<double>(state.iterations());
    state.counters["s_per_1k_frames"] = frames == 0 ? 0 : seconds / (static_cast<double>(frames) / 1000);
}
BENCHMARK(simgrid_net_echo)
    ->Arg(100)
    ->Arg(300)
    ->Arg(1000)
    ->Arg(3000)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace carousel::net
