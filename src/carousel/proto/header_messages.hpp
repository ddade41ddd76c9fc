// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The header exchange of Merry-Go-Round: how a node that restarts and a client that starts learn the
// chain's recent signed headers (mgr/signed_header.hpp) from their peers. Headers are signed by the
// bridge, so a peer can withhold them but not forge them; the receiver verifies each one against the
// key it trusts (mgr/header_book.hpp) and ignores the rest. While running, headers travel with the
// gossip (Content of kind kHeader, mgr_messages.hpp); this exchange is only for catching up.
//
//   GetHeaders [reqId, first, count]               the held headers numbered first .. first+count-1
//   Headers    [reqId, latest, [header...]]        latest: the server's newest header, or the empty
//                                                  string when it holds none; then the asked headers
//                                                  it holds, numbers increasing
//
// Each header is one opaque string here (its encoding is mgr's), at most kMaxHeaderBytes long. A
// request with count 0 asks only for the latest header (what a client starting needs). The decoders
// take peer bytes: strict RLP, exact item counts, caps on every count and length. That the headers
// of an answer are the ones asked, increasing and signed, is for the receiver to check once it has
// decoded them.

#include <vector>

#include <carousel/core/bytes.hpp>

#include "prefix_messages.hpp"

namespace carousel::proto {

inline constexpr std::size_t kMaxHeaderBytes = 256;     // a signed header is ~110 bytes
inline constexpr uint64_t kMaxHeadersPerRequest = 256;  // a restart more than this behind refills anyway

struct GetHeaders {
    uint64_t request_id{0};
    uint64_t first{0};
    uint64_t count{0};  // at most kMaxHeadersPerRequest; 0: only the latest
    friend bool operator==(const GetHeaders&, const GetHeaders&) = default;
};

struct Headers {
    uint64_t request_id{0};
    Bytes latest;                // empty: the server holds no header
    std::vector<Bytes> headers;  // at most kMaxHeadersPerRequest, each 1..kMaxHeaderBytes long
    friend bool operator==(const Headers&, const Headers&) = default;
};

Bytes encode(const GetHeaders& m);
Bytes encode(const Headers& m);

WireResult<GetHeaders> decode_get_headers(ByteView frame);
WireResult<Headers> decode_headers(ByteView frame);

}  // namespace carousel::proto
