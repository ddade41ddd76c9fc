// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "simgrid_net.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <unordered_set>
#include <utility>

#include <carousel/core/assert.hpp>

#include <simgrid/Exception.hpp>
#include <simgrid/s4u.hpp>

namespace carousel::net {

namespace sg4 = simgrid::s4u;
using proto::Address;
using proto::PeerId;
using proto::Time;

namespace {

constexpr uint16_t kPort = 30303;
constexpr std::size_t kMaxNodes = (std::size_t{1} << 24) - 1;

// What travels on SimGrid's links.
struct Packet {
    enum class Kind : uint8_t { kSyn, kSynAck, kFin, kFrame, kDatagram };
    Kind kind{Kind::kFrame};
    PeerId connection{0};
    std::size_t from{0};  // the sending node
    std::size_t size{0};  // its simulated size on the links
    Bytes bytes;
};

std::unique_ptr<Packet> make_packet(Packet::Kind kind, PeerId connection, std::size_t from, std::size_t size,
                                    Bytes bytes = {}) {
    auto p = std::make_unique<Packet>();
    p->kind = kind;
    p->connection = connection;
    p->from = from;
    p->size = size;
    p->bytes = std::move(bytes);
    return p;
}

double seconds(std::chrono::microseconds t) { return static_cast<double>(t.count()) / 1e6; }

}  // namespace

// No communication is detached: each is started by a node's actor, which waits for it (among the
// others it waits for) until it completes. SimGrid 3.32 keeps every detached communication of the
// engine in one list, which each completion searches (CommImpl::finish), so detached sends made the
// cost of a frame grow with the frames in flight in the whole net, that is with the number of nodes;
// an actor's own list holds only what that node has on its way. Hence a connection's sending side
// queues its frames here and puts them on SimGrid one at a time, and a closing end keeps taking the
// peer's frames until the peer's FIN, so that every send completes. simgrid_net_benchmark.cpp, wall
// ms per 1,000 frames at 100/300/1,000/3,000 nodes: 12/34/204/1,267 with detached sends, 6.4/8.6/
// 17/28 without. What still grows with n is the cost of cache and TLB misses in a larger working
// set (idle nodes add none: 3,000 nodes of which 300 are busy cost what 300 do). A frame also costs
// in proportion to its nodes' connections: an actor waits for all its communications at each wake.
struct SimGridNet::Impl {
    // One posted receive: a mailbox, the communication waiting on it and where it puts the packet.
    struct Receive {
        sg4::Mailbox* mailbox{nullptr};
        sg4::CommPtr comm;
        Packet* packet{nullptr};
    };
    // This node's sending side of a connection: packets go on the peer's mailbox in order, the next
    // once the one before arrived.
    struct Stream {
        sg4::Mailbox* mailbox{nullptr};
        std::deque<std::unique_ptr<Packet>> queue;  // behind the one on its way
        sg4::CommPtr on_its_way;
        bool fin{false};  // a FIN is queued or sent: nothing follows it
    };
    // This node's end of a connection. Open (its endpoint's) until this side closes it or the peer's
    // FIN arrives; then it stays, without the endpoint, until its own FIN went out and the peer's came
    // in, dropping the peer's frames meanwhile.
    struct End {
        std::size_t peer{0};  // the node at the other end
        int side{0};          // 0: this node dialed; 1: it was dialed
        bool open{true};
        std::unique_ptr<Receive> receive;  // none once the peer's FIN arrived
        Stream out;
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
        Receive inbox_receive;  // here, not on the actor's stack: SimGrid may complete it after the actor ended
        bool online{false};
        std::map<PeerId, End> ends;
        std::map<PeerId, PendingDial> dials;
        std::vector<sg4::CommPtr> inbox_sends;  // SYNs, SYN-ACKs and datagrams on their way
        std::multimap<Time, std::function<void()>> calls;
        SimNodeCounters counters;
        sg4::ActorPtr actor;
        bool parked{false};  // its actor is suspended at the run's end
    };
    // What a node's actor waits for, one entry per communication.
    struct Waited {
        enum class Kind : uint8_t { kInbox, kReceive, kSend, kInboxSend };
        Kind kind{Kind::kInbox};
        PeerId connection{0};  // kReceive, kSend
        std::size_t index{0};  // kInboxSend: in inbox_sends
    };

    SimGridOptions options;
    std::unique_ptr<sg4::Engine> engine;
    sg4::NetZone* zone{nullptr};
    std::string prefix;  // names of this net's hosts, links and mailboxes
    double t0{0};
    std::vector<Node> nodes;
    PeerId next_connection{1};
    std::optional<std::size_t> current;  // the node whose actor is running a call
    bool started{false};                 // the actors exist (the first run() began)
    bool running{false};                 // inside run()
    bool ending{false};                  // finish(): every actor returns, so the engine can be replaced
    Time until{0};                       // the run's end: every actor's wait ends there
    SimFrameHook hook;
    // Packets put on SimGrid and not yet taken by their receiver (a receive may complete unseen at
    // finish()); freed with the net.
    std::unordered_set<Packet*> posted;

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() {
        for (Packet* p : posted) delete p;
    }

    [[nodiscard]] Time clock() const { return Time{std::llround((sg4::Engine::get_clock() - t0) * 1e6)}; }
    // Between runs the clock may stop short of `until` (SimGrid ends a run within 10 us of its end).
    [[nodiscard]] Time now() const { return running ? clock() : until; }

    static sg4::Mailbox* connection_mailbox(const std::string& prefix, PeerId c, int side) {
        return sg4::Mailbox::by_name(prefix + "c" + std::to_string(c) + "." + std::to_string(side));
    }

    std::optional<std::size_t> node_at(const Address& a) const {
        if (a.ip[0] != 10 || a.port != kPort) return std::nullopt;
        const std::size_t n = (std::size_t{a.ip[1]} << 16 | std::size_t{a.ip[2]} << 8 | a.ip[3]);
        if (n == 0 || n > nodes.size()) return std::nullopt;
        return n - 1;
    }

    // Starts sending `packet` to `mailbox`; the sender waits for the communication until it completes.
    sg4::CommPtr post(sg4::Mailbox* mailbox, std::unique_ptr<Packet> packet) {
        Packet* p = packet.release();
        posted.insert(p);
        return mailbox->put_async(p, p->size);
    }

    // The packet a completed receive got, now the receiver's.
    std::unique_ptr<Packet> take(Packet* p) {
        posted.erase(p);
        return std::unique_ptr<Packet>{p};
    }

    void receive_on(Receive& r) {
        r.packet = nullptr;
        r.comm = r.mailbox->get_async<Packet>(&r.packet);
    }

    std::unique_ptr<Receive> receive_on(sg4::Mailbox* mailbox) {
        auto r = std::make_unique<Receive>();
        r->mailbox = mailbox;
        receive_on(*r);
        return r;
    }

    void send_to_inbox(std::size_t self, std::size_t to, std::unique_ptr<Packet> packet) {
        nodes[self].inbox_sends.push_back(post(nodes[to].inbox, std::move(packet)));
    }

    // Queues `packet` on `out`: it leaves at once if nothing else is on its way.
    void push(Stream& out, std::unique_ptr<Packet> packet) {
        if (out.on_its_way) {
            out.queue.push_back(std::move(packet));
        } else {
            out.on_its_way = post(out.mailbox, std::move(packet));
        }
    }

    // The packet on its way on `out` arrived: the next one leaves.
    void arrived(Stream& out) {
        out.on_its_way = nullptr;
        if (out.queue.empty()) return;
        out.on_its_way = post(out.mailbox, std::move(out.queue.front()));
        out.queue.pop_front();
    }

    End& open_end(std::size_t self, PeerId c, std::size_t peer, int side, bool open) {
        Node& n = nodes[self];
        End& end = n.ends[c];
        end.peer = peer;
        end.side = side;
        end.open = open;
        end.receive = receive_on(connection_mailbox(prefix, c, side));
        end.out.mailbox = connection_mailbox(prefix, c, 1 - side);
        if (open) n.counters.peak_connections = std::max(n.counters.peak_connections, ++n.counters.connections);
        return end;
    }

    // Closes this node's end of c (its endpoint is told by the caller, if at all): a FIN after its
    // last frame to the peer.
    void close_end(std::size_t self, PeerId c, End& end) {
        Node& n = nodes[self];
        if (end.open) --n.counters.connections;
        end.open = false;
        end.out.fin = true;
        push(end.out, make_packet(Packet::Kind::kFin, c, self, kControlBytes));
    }

    // Forgets a closed end once both FINs have arrived.
    void forget_if_done(Node& n, std::map<PeerId, End>::iterator it) {
        const End& end = it->second;
        if (!end.open && !end.receive && end.out.fin && !end.out.on_its_way && end.out.queue.empty()) n.ends.erase(it);
    }

    void send_frame(std::size_t self, proto::OutgoingFrame f) {
        Node& n = nodes[self];
        auto it = n.ends.find(f.to);
        if (f.frame.empty() || f.frame.size() > proto::kMaxFrameSize || it == n.ends.end() || !it->second.open) {
            n.counters.frames_dropped.add(f.frame);
            return;
        }
        if (hook) {
            const uint8_t type = f.frame[0];
            const std::size_t before = f.frame.size();
            hook(self, it->second.peer, f.frame);
            if (f.frame.empty() || f.frame.size() > proto::kMaxFrameSize) {
                n.counters.frames_dropped.add(type, before);
                return;
            }
        }
        n.counters.frames_sent.add(f.frame);
        const std::size_t size = f.frame.size() + 4;
        push(it->second.out, make_packet(Packet::Kind::kFrame, f.to, self, size, std::move(f.frame)));
    }

    void dial(std::size_t self, const Address& to) {
        Node& n = nodes[self];
        ++n.counters.dials;
        const PeerId c = next_connection++;
        n.dials.emplace(c, PendingDial{to, now() + options.connect_timeout});
        const auto target = node_at(to);
        // Nobody answers (no node, offline, or this node itself): the dial times out.
        if (!target || *target == self || !nodes[*target].online) return;
        send_to_inbox(self, *target, make_packet(Packet::Kind::kSyn, c, self, kControlBytes));
    }

    void send_datagram(std::size_t self, proto::OutgoingDatagram d) {
        Node& n = nodes[self];
        const auto target = node_at(d.to);
        if (d.datagram.empty() || d.datagram.size() > proto::kMaxDatagramSize || !target || !nodes[*target].online) {
            n.counters.datagrams_dropped.add(d.datagram);
            return;
        }
        n.counters.datagrams_sent.add(d.datagram);
        const std::size_t size = d.datagram.size() + kUdpHeaderBytes;
        send_to_inbox(self, *target, make_packet(Packet::Kind::kDatagram, 0, self, size, std::move(d.datagram)));
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
                auto it = n.ends.find(d.peer);
                if (it == n.ends.end() || !it->second.open) continue;
                close_end(self, d.peer, it->second);
                e.on_disconnect(d.peer, now());
            }
            for (const auto& a : dials) dial(self, a);
            for (auto& d : datagrams) send_datagram(self, std::move(d));
        }
    }

    // A SYN, SYN-ACK or datagram. A node that left takes them and drops them, but closes the
    // connection a late SYN-ACK opened.
    void on_inbox_packet(std::size_t self, std::unique_ptr<Packet> p) {
        Node& n = nodes[self];
        proto::Endpoint& e = *n.endpoint;
        const Time t = now();
        switch (p->kind) {
            case Packet::Kind::kSyn: {
                if (!n.online) return;
                open_end(self, p->connection, p->from, 1, true);
                send_to_inbox(self, p->from, make_packet(Packet::Kind::kSynAck, p->connection, self, kControlBytes));
                e.on_connect(p->connection, t);
                break;
            }
            case Packet::Kind::kSynAck: {
                auto dial_it = n.dials.find(p->connection);
                if (dial_it == n.dials.end()) {  // given up on, or this node left: close the connection
                    close_end(self, p->connection, open_end(self, p->connection, p->from, 0, false));
                    return;
                }
                const Address to = dial_it->second.address;
                n.dials.erase(dial_it);
                open_end(self, p->connection, p->from, 0, true);
                // on_connect follows on_dialed even if on_dialed asked to drop the peer, so that an
                // on_disconnect always follows an on_connect (the drain below closes it).
                e.on_dialed(to, p->connection, t);
                e.on_connect(p->connection, t);
                break;
            }
            case Packet::Kind::kDatagram:
                if (!n.online) return;
                n.counters.datagrams_received.add(p->bytes);
                e.on_datagram(address_of(p->from), p->bytes, t);
                break;
            case Packet::Kind::kFin:
            case Packet::Kind::kFrame:
                CAROUSEL_ASSERT(false, "FINs and frames travel on their connection");
        }
        drain(self);
    }

    // A frame or FIN on the connection `it`.
    void on_connection_packet(std::size_t self, std::map<PeerId, End>::iterator it, std::unique_ptr<Packet> p) {
        Node& n = nodes[self];
        End& end = it->second;
        if (!end.open) {  // closing: the peer's frames are dropped, its FIN ends the wait for them
            forget_if_done(n, it);
            return;
        }
        proto::Endpoint& e = *n.endpoint;
        const PeerId c = it->first;
        const Time t = now();
        if (p->kind == Packet::Kind::kFin) {
            end.out.queue.clear();  // the peer takes nothing more
            close_end(self, c, end);
            e.on_disconnect(c, t);
        } else {
            CAROUSEL_ASSERT(p->kind == Packet::Kind::kFrame, "only frames and FINs travel on a connection");
            n.counters.frames_received.add(p->bytes);
            e.on_frame(c, p->bytes, t);
        }
        drain(self);
    }

    // Node `self` leaves: every connection closes, as an OS closes a process's sockets.
    void leave(std::size_t self) {
        Node& n = nodes[self];
        n.online = false;
        for (auto& [c, end] : n.ends) {
            if (end.open) close_end(self, c, end);
        }
        n.dials.clear();
        n.calls.clear();
    }

    // Suspends node `self`'s actor (itself) until the next run() resumes it.
    void park(std::size_t self) {
        nodes[self].parked = true;
        sg4::this_actor::suspend();
    }

    // Resumes every parked actor (from outside the simulation, between runs).
    void resume_parked() {
        for (Node& n : nodes) {
            if (!n.parked) continue;
            n.parked = false;
            n.actor->resume();
        }
    }

    // The actor of node `self`, from the first run() to finish(). After the node left it goes on
    // sending what was sent before and taking (and dropping) what arrives, so that every
    // communication completes.
    void run_node(std::size_t self) {
        Node& n = nodes[self];
        for (Time t = now(); t < n.options.join; t = now()) {
            if (ending) return;
            if (t >= until) {
                park(self);
            } else {
                sg4::this_actor::sleep_until(t0 + seconds(std::min(n.options.join, until)));
            }
        }
        if (ending) return;
        n.online = true;
        // The inbox's packets travel as soon as sent, side by side (SimGrid's permanent receiver):
        // with a receive matched one at a time, each would wait for the one before to arrive, and a
        // bootnode's answers to a net joining at once came seconds late.
        n.inbox->set_receiver(sg4::Actor::self());
        Receive& inbox = n.inbox_receive;
        inbox.mailbox = n.inbox;
        receive_on(inbox);
        std::vector<sg4::ActivityPtr> comms;  // as Activities: Comm::wait_any_for casts each, every time
        std::vector<Waited> what;
        for (;;) {
            const Time t = now();
            if (ending) break;
            if (n.online && n.options.leave && t >= *n.options.leave) {
                leave(self);
                continue;
            }
            std::optional<Time> wake = until;  // every wait ends at the run's end
            if (n.online) {
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
                auto earlier = [&](Time x) { wake = wake ? std::min(*wake, x) : x; };
                if (deadline) earlier(*deadline);
                if (!n.calls.empty()) earlier(n.calls.begin()->first);
                for (const auto& [c, d] : n.dials) earlier(d.deadline);
                if (n.options.leave) earlier(*n.options.leave);
            }
            if (t >= until) {  // nothing more is due now: the run ends here for this node
                park(self);
                continue;
            }

            comms.clear();
            what.clear();
            comms.emplace_back(inbox.comm);
            what.emplace_back(Waited{Waited::Kind::kInbox});
            for (const auto& [c, end] : n.ends) {
                if (end.receive) {
                    comms.emplace_back(end.receive->comm);
                    what.emplace_back(Waited{Waited::Kind::kReceive, c});
                }
                if (end.out.on_its_way) {
                    comms.emplace_back(end.out.on_its_way);
                    what.emplace_back(Waited{Waited::Kind::kSend, c});
                }
            }
            for (std::size_t i = 0; i < n.inbox_sends.size(); ++i) {
                comms.emplace_back(n.inbox_sends[i]);
                what.emplace_back(Waited{Waited::Kind::kInboxSend, 0, i});
            }
            // From the engine's clock, not from t (rounded to a microsecond): a wait for the run's end
            // ends at it, within this run.
            const double timeout = std::max(0.0, t0 + seconds(*wake) - sg4::Engine::get_clock());
            ssize_t done = -1;
            try {
                done = sg4::Activity::wait_any_for(comms, timeout);
            } catch (const simgrid::NetworkFailureException&) {
                // The other end withdrew a communication under way: only when the actors end.
                CAROUSEL_ASSERT(ending, "communications are withdrawn only at finish()");
                break;
            }
            if (done < 0) continue;  // woken by the time
            const Waited w = what[static_cast<std::size_t>(done)];
            switch (w.kind) {
                case Waited::Kind::kInbox: {
                    auto packet = take(inbox.packet);
                    receive_on(inbox);
                    on_inbox_packet(self, std::move(packet));
                    break;
                }
                case Waited::Kind::kReceive: {
                    auto it = n.ends.find(w.connection);
                    Receive& r = *it->second.receive;
                    auto packet = take(r.packet);
                    if (packet->kind == Packet::Kind::kFin) {
                        it->second.receive.reset();
                    } else {
                        receive_on(r);
                    }
                    on_connection_packet(self, it, std::move(packet));
                    break;
                }
                case Waited::Kind::kSend: {
                    auto it = n.ends.find(w.connection);
                    arrived(it->second.out);
                    forget_if_done(n, it);
                    break;
                }
                case Waited::Kind::kInboxSend:
                    n.inbox_sends[w.index] = std::move(n.inbox_sends.back());
                    n.inbox_sends.pop_back();
                    break;
            }
        }
        // finish(): the node stays as it is, its communications withdrawn.
        inbox.comm->cancel();
        for (auto& [c, end] : n.ends) {
            if (end.receive) end.receive->comm->cancel();
            if (end.out.on_its_way) end.out.on_its_way->cancel();
        }
        for (auto& s : n.inbox_sends) s->cancel();
        n.inbox->set_receiver(nullptr);  // else the mailbox keeps the actor alive
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

SimGridNet::~SimGridNet() { finish(); }

SimGridNet::NodeIndex SimGridNet::add_node(proto::Endpoint& endpoint, const SimNodeOptions& options) {
    Impl& m = *impl_;
    CAROUSEL_ASSERT(!m.started, "nodes are added before the first run()");
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
    CAROUSEL_ASSERT(!m.running || m.current == node, "calls are scheduled between runs or by the node itself");
    CAROUSEL_ASSERT(!m.ending, "no calls after finish()");
    m.nodes[node].calls.emplace(std::max(at, m.now()), std::move(fn));
}

void SimGridNet::leave(NodeIndex node) {
    Impl& m = *impl_;
    CAROUSEL_ASSERT(node < m.nodes.size(), "a node of this net");
    CAROUSEL_ASSERT(!m.running, "nodes are made to leave between runs");
    auto& leave = m.nodes[node].options.leave;
    if (!leave || *leave > m.now()) leave = m.now();
}

bool SimGridNet::online(NodeIndex node) const {
    const Impl& m = *impl_;
    const SimNodeOptions& o = m.nodes.at(node).options;
    const Time t = m.now();
    return t >= o.join && !(o.leave && t >= *o.leave);
}

void SimGridNet::set_frame_hook(SimFrameHook hook) {
    CAROUSEL_ASSERT(!impl_->running, "the frame hook is set between runs");
    impl_->hook = std::move(hook);
}

// Parked actors are resumed before the engine runs: each looks at what is due now (calls scheduled
// since, a leave), then waits until the new end.
void SimGridNet::run(Time until) {
    Impl& m = *impl_;
    CAROUSEL_ASSERT(!m.ending, "no run() after finish()");
    CAROUSEL_ASSERT(until >= m.until, "runs go forward in time");
    m.until = until;
    if (!m.started) {
        m.started = true;
        m.zone->seal();
        for (std::size_t i = 0; i < m.nodes.size(); ++i) {
            m.nodes[i].actor =
                sg4::Actor::create(m.prefix + "a" + std::to_string(i), m.nodes[i].host, [&m, i] { m.run_node(i); });
        }
    }
    m.resume_parked();
    m.running = true;
    m.engine->run_until(m.t0 + seconds(until));
    m.running = false;
}

void SimGridNet::finish() {
    Impl& m = *impl_;
    if (!m.started || m.ending) return;
    m.ending = true;
    m.resume_parked();
    m.running = true;
    m.engine->run();
    m.running = false;
}

Time SimGridNet::now() const { return impl_->now(); }

const SimNodeCounters& SimGridNet::counters(NodeIndex node) const { return impl_->nodes.at(node).counters; }

std::size_t SimGridNet::size() const noexcept { return impl_->nodes.size(); }

}  // namespace carousel::net
