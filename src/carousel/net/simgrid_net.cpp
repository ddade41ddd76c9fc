// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "simgrid_net.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <carousel/core/assert.hpp>

#include <simgrid/s4u.hpp>

namespace carousel::net {

namespace sg4 = simgrid::s4u;
using proto::Address;
using proto::PeerId;
using proto::Time;

namespace {

constexpr uint16_t kPort = 30303;
constexpr std::size_t kMaxNodes = (std::size_t{1} << 24) - 1;

// What travels on SimGrid's links; the simulated size is given apart.
struct Packet {
    enum class Kind : uint8_t { kSyn, kSynAck, kFin, kFrame, kDatagram };
    Kind kind{Kind::kFrame};
    PeerId connection{0};
    std::size_t from{0};  // the sending node
    Bytes bytes;
};

void delete_packet(void* p) { delete static_cast<Packet*>(p); }

// Sends `packet` to `mailbox` without waiting; a packet nobody receives is freed when SimGrid
// destroys its communication.
void post(sg4::Mailbox* mailbox, std::unique_ptr<Packet> packet, std::size_t simulated_bytes) {
    mailbox->put_init(packet.release(), simulated_bytes)->detach(delete_packet);
}

double seconds(std::chrono::microseconds t) { return static_cast<double>(t.count()) / 1e6; }

}  // namespace

struct SimGridNet::Impl {
    // One posted receive: a mailbox, the communication waiting on it and where it puts the packet.
    struct Receive {
        sg4::Mailbox* mailbox{nullptr};
        sg4::CommPtr comm;
        Packet* packet{nullptr};
    };
    // This node's end of an open connection.
    struct End {
        std::size_t peer{0};  // the node at the other end
        int side{0};          // 0: this node dialed; 1: it was dialed
        std::unique_ptr<Receive> receive;
    };
    struct PendingDial {
        Address address;
        Time deadline{0};
    };
    struct Node {
        proto::Endpoint* endpoint{nullptr};
        SimNodeOptions options;
        sg4::Host* host{nullptr};
        sg4::Mailbox* inbox{nullptr};
        bool online{false};
        std::map<PeerId, End> ends;
        std::map<PeerId, PendingDial> dials;
        std::multimap<Time, std::function<void()>> calls;
        SimNodeCounters counters;
    };

    SimGridOptions options;
    std::unique_ptr<sg4::Engine> engine;
    sg4::NetZone* zone{nullptr};
    std::string prefix;  // names of this net's hosts, links and mailboxes
    double t0{0};
    std::vector<Node> nodes;
    PeerId next_connection{1};
    std::optional<std::size_t> current;  // the node whose actor is running a call
    bool ran{false};
    Time until{0};  // run()'s end: every actor returns then, so the engine ends and can be replaced

    [[nodiscard]] Time now() const { return Time{std::llround((sg4::Engine::get_clock() - t0) * 1e6)}; }

    static sg4::Mailbox* connection_mailbox(const std::string& prefix, PeerId c, int side) {
        return sg4::Mailbox::by_name(prefix + "c" + std::to_string(c) + "." + std::to_string(side));
    }

    std::optional<std::size_t> node_at(const Address& a) const {
        if (a.ip[0] != 10 || a.port != kPort) return std::nullopt;
        const std::size_t n = (std::size_t{a.ip[1]} << 16 | std::size_t{a.ip[2]} << 8 | a.ip[3]);
        if (n == 0 || n > nodes.size()) return std::nullopt;
        return n - 1;
    }

    std::unique_ptr<Receive> receive_on(sg4::Mailbox* mailbox) {
        auto r = std::make_unique<Receive>();
        r->mailbox = mailbox;
        r->comm = mailbox->get_async<Packet>(&r->packet);
        return r;
    }

    void open_end(std::size_t self, PeerId c, std::size_t peer, int side) {
        Node& n = nodes[self];
        n.ends.emplace(c, End{peer, side, receive_on(connection_mailbox(prefix, c, side))});
        n.counters.peak_connections = std::max(n.counters.peak_connections, ++n.counters.connections);
    }

    // Closes this node's end of c: no more receives, a FIN after its last frame to the peer.
    void close_end(std::size_t self, PeerId c) {
        Node& n = nodes[self];
        auto it = n.ends.find(c);
        if (it == n.ends.end()) return;
        it->second.receive->comm->cancel();
        auto fin = std::make_unique<Packet>();
        fin->kind = Packet::Kind::kFin;
        fin->connection = c;
        fin->from = self;
        post(connection_mailbox(prefix, c, 1 - it->second.side), std::move(fin), kControlBytes);
        n.ends.erase(it);
        --n.counters.connections;
    }

    void send_frame(std::size_t self, proto::OutgoingFrame f) {
        Node& n = nodes[self];
        auto it = n.ends.find(f.to);
        if (f.frame.empty() || f.frame.size() > proto::kMaxFrameSize || it == n.ends.end()) {
            n.counters.frames_dropped.add(f.frame);
            return;
        }
        n.counters.frames_sent.add(f.frame);
        auto p = std::make_unique<Packet>();
        p->kind = Packet::Kind::kFrame;
        p->connection = f.to;
        p->from = self;
        const std::size_t size = f.frame.size() + 4;
        p->bytes = std::move(f.frame);
        post(connection_mailbox(prefix, f.to, 1 - it->second.side), std::move(p), size);
    }

    void dial(std::size_t self, const Address& to) {
        Node& n = nodes[self];
        ++n.counters.dials;
        const PeerId c = next_connection++;
        n.dials.emplace(c, PendingDial{to, now() + options.connect_timeout});
        const auto target = node_at(to);
        // Nobody answers (no node, offline, or this node itself): the dial times out.
        if (!target || *target == self || !nodes[*target].online) return;
        auto syn = std::make_unique<Packet>();
        syn->kind = Packet::Kind::kSyn;
        syn->connection = c;
        syn->from = self;
        post(nodes[*target].inbox, std::move(syn), kControlBytes);
    }

    void send_datagram(std::size_t self, proto::OutgoingDatagram d) {
        Node& n = nodes[self];
        const auto target = node_at(d.to);
        if (d.datagram.empty() || d.datagram.size() > proto::kMaxDatagramSize || !target || !nodes[*target].online) {
            n.counters.datagrams_dropped.add(d.datagram);
            return;
        }
        n.counters.datagrams_sent.add(d.datagram);
        auto p = std::make_unique<Packet>();
        p->kind = Packet::Kind::kDatagram;
        p->from = self;
        const std::size_t size = d.datagram.size() + kUdpHeaderBytes;
        p->bytes = std::move(d.datagram);
        post(nodes[*target].inbox, std::move(p), size);
    }

    // Takes what the endpoint decided until it decides nothing more (a disconnect it asked for calls
    // its on_disconnect, which may decide more).
    void drain(std::size_t self) {
        Node& n = nodes[self];
        proto::Endpoint& e = *n.endpoint;
        for (;;) {
            auto outbox = e.take_outbox();
            auto disconnects = e.take_disconnects();
            auto dials = e.take_dials();
            auto datagrams = e.take_datagrams();
            if (outbox.empty() && disconnects.empty() && dials.empty() && datagrams.empty()) return;
            for (auto& f : outbox) send_frame(self, std::move(f));
            for (const auto& d : disconnects) {
                if (!n.ends.contains(d.peer)) continue;
                close_end(self, d.peer);
                e.on_disconnect(d.peer, now());
            }
            for (const auto& a : dials) dial(self, a);
            for (auto& d : datagrams) send_datagram(self, std::move(d));
        }
    }

    void on_packet(std::size_t self, std::unique_ptr<Packet> p, std::optional<PeerId> on_connection) {
        Node& n = nodes[self];
        proto::Endpoint& e = *n.endpoint;
        const Time t = now();
        switch (p->kind) {
            case Packet::Kind::kSyn: {
                open_end(self, p->connection, p->from, 1);
                auto ack = std::make_unique<Packet>();
                ack->kind = Packet::Kind::kSynAck;
                ack->connection = p->connection;
                ack->from = self;
                post(nodes[p->from].inbox, std::move(ack), kControlBytes);
                e.on_connect(p->connection, t);
                break;
            }
            case Packet::Kind::kSynAck: {
                auto dial_it = n.dials.find(p->connection);
                if (dial_it == n.dials.end()) {  // given up on: close the other end
                    auto fin = std::make_unique<Packet>();
                    fin->kind = Packet::Kind::kFin;
                    fin->connection = p->connection;
                    fin->from = self;
                    post(connection_mailbox(prefix, p->connection, 1), std::move(fin), kControlBytes);
                    return;
                }
                const Address to = dial_it->second.address;
                n.dials.erase(dial_it);
                open_end(self, p->connection, p->from, 0);
                // on_connect follows on_dialed even if on_dialed asked to drop the peer, so that an
                // on_disconnect always follows an on_connect (the drain below closes it).
                e.on_dialed(to, p->connection, t);
                e.on_connect(p->connection, t);
                break;
            }
            case Packet::Kind::kFin: {
                CAROUSEL_ASSERT(on_connection, "a FIN travels on its connection");
                n.ends.erase(*on_connection);  // its receive just completed
                --n.counters.connections;
                e.on_disconnect(*on_connection, t);
                break;
            }
            case Packet::Kind::kFrame:
                n.counters.frames_received.add(p->bytes);
                e.on_frame(p->connection, p->bytes, t);
                break;
            case Packet::Kind::kDatagram:
                n.counters.datagrams_received.add(p->bytes);
                e.on_datagram(address_of(p->from), p->bytes, t);
                break;
        }
        drain(self);
    }

    // The actor of node `self`.
    void run_node(std::size_t self) {
        Node& n = nodes[self];
        if (n.options.join >= until) return;
        sg4::this_actor::sleep_until(t0 + seconds(n.options.join));
        n.online = true;
        std::unique_ptr<Receive> inbox = receive_on(n.inbox);
        std::vector<sg4::CommPtr> comms;
        std::vector<std::optional<PeerId>> what;  // per comm: its connection, or nullopt for the inbox
        for (;;) {
            const Time t = now();
            if (t >= until) {  // the run ends: the node stays as it is, its receives withdrawn
                inbox->comm->cancel();
                for (auto& [c, end] : n.ends) end.receive->comm->cancel();
                return;
            }
            if (n.options.leave && t >= *n.options.leave) break;
            // Calls due, then dials given up on, then the endpoint's timer.
            if (!n.calls.empty() && n.calls.begin()->first <= t) {
                auto fn = std::move(n.calls.begin()->second);
                n.calls.erase(n.calls.begin());
                current = self;
                fn();
                drain(self);
                current.reset();
                continue;
            }
            if (auto d = std::find_if(n.dials.begin(), n.dials.end(),
                                      [&](const auto& kv) { return kv.second.deadline <= t; });
                d != n.dials.end()) {
                const Address to = d->second.address;
                n.dials.erase(d);
                ++n.counters.dials_failed;
                n.endpoint->on_dial_failed(to, t);
                drain(self);
                continue;
            }
            const std::optional<Time> deadline = n.endpoint->next_deadline();
            if (deadline && *deadline <= t) {
                n.endpoint->on_timer(t);
                drain(self);
                continue;
            }
            std::optional<Time> wake = until;
            if (deadline) wake = std::min(*wake, *deadline);
            auto earlier = [&](Time x) { wake = wake ? std::min(*wake, x) : x; };
            if (!n.calls.empty()) earlier(n.calls.begin()->first);
            for (const auto& [c, d] : n.dials) earlier(d.deadline);
            if (n.options.leave) earlier(*n.options.leave);

            comms.clear();
            what.clear();
            comms.push_back(inbox->comm);
            what.emplace_back(std::nullopt);
            for (const auto& [c, end] : n.ends) {
                comms.push_back(end.receive->comm);
                what.emplace_back(c);
            }
            const double timeout = wake ? std::max(0.0, seconds(*wake - t)) : -1.0;
            const ssize_t done = sg4::Comm::wait_any_for(comms, timeout);
            if (done < 0) continue;  // woken by the time
            const auto index = static_cast<std::size_t>(done);
            std::unique_ptr<Packet> packet;
            if (!what[index]) {
                packet.reset(inbox->packet);
                inbox = receive_on(n.inbox);
            } else {
                End& end = n.ends.at(*what[index]);
                packet.reset(end.receive->packet);
                if (packet->kind != Packet::Kind::kFin) end.receive = receive_on(end.receive->mailbox);
            }
            on_packet(self, std::move(packet), what[index]);
        }
        // Leaving: every connection closes, as an OS closes a process's sockets.
        n.online = false;
        inbox->comm->cancel();
        while (!n.ends.empty()) close_end(self, n.ends.begin()->first);
        n.dials.clear();
    }
};

SimGridNet::SimGridNet(SimGridOptions options) : impl_{std::make_unique<Impl>()} {
    static int instances = 0;
    impl_->options = std::move(options);
    impl_->prefix = "net" + std::to_string(instances++) + ".";
    std::string program = "carousel";
    std::string log = "--log=root.thres:critical";
    std::vector<char*> argv{program.data(), log.data(), nullptr};
    int argc = 2;
    impl_->engine = std::make_unique<sg4::Engine>(&argc, argv.data());
    for (const std::string& c : impl_->options.config) sg4::Engine::set_config(c);
    impl_->zone = sg4::create_star_zone(impl_->prefix + "world");
    impl_->t0 = sg4::Engine::get_clock();
}

SimGridNet::~SimGridNet() = default;

SimGridNet::NodeIndex SimGridNet::add_node(proto::Endpoint& endpoint, const SimNodeOptions& options) {
    Impl& m = *impl_;
    CAROUSEL_ASSERT(!m.ran, "nodes are added before run()");
    CAROUSEL_ASSERT(m.nodes.size() < kMaxNodes, "at most 2^24 - 1 nodes");
    const std::size_t i = m.nodes.size();
    const std::string name = m.prefix + "n" + std::to_string(i);
    Impl::Node n;
    n.endpoint = &endpoint;
    n.options = options;
    n.host = m.zone->create_host(name, 1e9);
    const double latency = seconds(options.link.latency);
    auto* up = m.zone->create_link(name + ".up", options.link.up_bytes_per_second)->set_latency(latency)->seal();
    auto* down = m.zone->create_link(name + ".down", options.link.down_bytes_per_second)->set_latency(latency)->seal();
    m.zone->add_route(n.host->get_netpoint(), nullptr, nullptr, nullptr, {sg4::LinkInRoute{up}}, false);
    m.zone->add_route(nullptr, n.host->get_netpoint(), nullptr, nullptr, {sg4::LinkInRoute{down}}, false);
    n.inbox = sg4::Mailbox::by_name(name + ".inbox");
    m.nodes.push_back(std::move(n));
    return i;
}

Address SimGridNet::address_of(NodeIndex node) {
    const std::size_t n = node + 1;
    return Address{{10, static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)}, kPort};
}

Address SimGridNet::address(NodeIndex node) const {
    CAROUSEL_ASSERT(node < impl_->nodes.size(), "a node of this net");
    return address_of(node);
}

void SimGridNet::schedule(NodeIndex node, Time at, std::function<void()> fn) {
    Impl& m = *impl_;
    CAROUSEL_ASSERT(node < m.nodes.size(), "a node of this net");
    CAROUSEL_ASSERT(!m.ran || m.current == node, "calls are scheduled before run() or by the node itself");
    m.nodes[node].calls.emplace(at, std::move(fn));
}

void SimGridNet::run(Time until) {
    Impl& m = *impl_;
    CAROUSEL_ASSERT(!m.ran, "run() once");
    m.ran = true;
    m.until = until;
    m.zone->seal();
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        sg4::Actor::create(m.prefix + "a" + std::to_string(i), m.nodes[i].host, [&m, i] { m.run_node(i); });
    }
    m.engine->run();
}

Time SimGridNet::now() const { return impl_->now(); }

const SimNodeCounters& SimGridNet::counters(NodeIndex node) const { return impl_->nodes.at(node).counters; }

std::size_t SimGridNet::size() const noexcept { return impl_->nodes.size(); }

}  // namespace carousel::net
