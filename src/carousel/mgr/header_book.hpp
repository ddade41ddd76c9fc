// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// HeaderBook: the signed headers (mgr/signed_header.hpp) a node or a client holds: in a process,
// the trusted source of (block number, state root) that every region item, chunk and diff is
// checked against (a HeaderSource over it: source()). Headers reach it from peers — gossiped beside
// the region items of their block (Content of kind kHeader), or asked for with GetHeaders after a
// restart (proto/header_messages.hpp) — so a peer can withhold a header but never forge one: only
// headers signed by the trusted key enter the book.
//
// Contract:
//  - accept(encoded): decodes (strictly) and verifies the signature against the trusted key. A
//    header for a number the book holds already is kKnown when it is the same header, and a
//    conflict (counted, the first one kept) when the trusted key signed another root for that
//    number: the bridge stands in for a light client of a chain that does not reorganize (the
//    generated chain), so two roots for one number are the bridge's fault, not the sender's.
//    A header older than the window is kTooOld and not kept.
//  - The window: the book keeps the `capacity` newest numbers it accepted (oldest dropped first);
//    root() of a number outside it, or never seen, is nullopt. Give it at least two epochs, so that
//    every root a node serves (both epoch boundaries and the head) stays checkable.
//  - answer(GetHeaders): the latest header and the asked ones the book holds, numbers increasing;
//    accept_answer(asked, Headers) accepts an answer to our own request: the latest header and every
//    listed one must verify, and the listed ones must be inside the range asked, increasing.
//  - Costs: one signature verification (~50 µs) per header not held yet; nothing for one held.
//  - Sans-IO, no clock; not thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string_view>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/dht/node_key.hpp>
#include <carousel/proto/header_messages.hpp>

#include "header_source.hpp"
#include "signed_header.hpp"

namespace carousel::mgr {

enum class HeaderVerdict : uint8_t {
    kNew = 1,  // verified and kept
    kKnown,    // the book holds this header already
    kTooOld,   // older than the window: not kept
};

// Why a header, or an answer holding headers, is refused. Peer input: its sender is to be scored down.
enum class [[nodiscard]] HeaderRejection{
    kUndecodable = 1,  // not a signed header (decode_signed_header failed)
    kBadSignature,     // not signed by the trusted key
    kConflict,         // the trusted key signed another root for this number (kept: the first)
    kOutOfRange,       // an answer's header outside the range asked, or not increasing
};
std::string_view to_string(HeaderRejection r) noexcept;

struct HeaderBookStats {
    uint64_t accepted{0};  // kNew
    uint64_t known{0};
    uint64_t too_old{0};
    uint64_t rejected{0};  // undecodable, bad signature, out of range
    uint64_t conflicts{0};
};

class HeaderBook {
  public:
    // `capacity` ≥ 1: how many numbers the window holds.
    HeaderBook(const dht::PublicKey& trusted, std::size_t capacity);

    tl::expected<HeaderVerdict, HeaderRejection> accept(ByteView encoded);
    // As accept(encoded), for a caller that decoded it already: `header` is
    // decode_signed_header(encoded) (the book keeps `encoded` as it is and answers with it).
    tl::expected<HeaderVerdict, HeaderRejection> accept(const SignedHeader& header, ByteView encoded);
    // Accepts an answer to `asked` (see the contract); on a refusal, the headers before the bad one
    // stay accepted. Returns the number of new headers.
    tl::expected<std::size_t, HeaderRejection> accept_answer(const proto::GetHeaders& asked,
                                                             const proto::Headers& answer);

    [[nodiscard]] std::optional<Hash> root(uint64_t number) const;
    // The newest header held; nullopt while the book is empty.
    [[nodiscard]] std::optional<Header> latest() const;
    // The encoding of the header of `number` as it was accepted; nullopt when not held.
    [[nodiscard]] std::optional<ByteView> encoded(uint64_t number) const;
    [[nodiscard]] proto::Headers answer(const proto::GetHeaders& request) const;
    // root() as a HeaderSource; the book must outlive it.
    [[nodiscard]] HeaderSource source() const;

    [[nodiscard]] std::size_t size() const noexcept { return headers_.size(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    [[nodiscard]] const HeaderBookStats& stats() const noexcept { return stats_; }

  private:
    struct Held {
        Hash root{};
        Bytes encoded;
    };
    dht::PublicKey trusted_;
    std::size_t capacity_;
    std::map<uint64_t, Held> headers_;
    HeaderBookStats stats_;
};

}  // namespace carousel::mgr
