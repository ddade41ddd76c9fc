// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "header_book.hpp"

#include <carousel/core/assert.hpp>

namespace carousel::mgr {

std::string_view to_string(HeaderRejection r) noexcept {
    switch (r) {
        case HeaderRejection::kUndecodable:
            return "undecodable header";
        case HeaderRejection::kBadSignature:
            return "header not signed by the trusted key";
        case HeaderRejection::kConflict:
            return "the trusted key signed another root for this number";
        case HeaderRejection::kOutOfRange:
            return "header outside the range asked";
    }
    return "unknown header rejection";
}

HeaderBook::HeaderBook(const dht::PublicKey& trusted, std::size_t capacity) : trusted_{trusted}, capacity_{capacity} {
    CAROUSEL_ASSERT(capacity_ >= 1, "a header book holds at least one header");
}

tl::expected<HeaderVerdict, HeaderRejection> HeaderBook::accept(ByteView encoded) {
    const auto header = decode_signed_header(encoded);
    if (!header) {
        ++stats_.rejected;
        return tl::unexpected{HeaderRejection::kUndecodable};
    }
    return accept(*header, encoded);
}

tl::expected<HeaderVerdict, HeaderRejection> HeaderBook::accept(const SignedHeader& header, ByteView encoded) {
    const uint64_t number = header.header.number;
    if (auto it = headers_.find(number); it != headers_.end()) {
        if (it->second.encoded == encoded) {
            ++stats_.known;
            return HeaderVerdict::kKnown;
        }
        // Another encoding of this number: a conflict only if the trusted key signed it.
        if (!verify_header(header, trusted_)) {
            ++stats_.rejected;
            return tl::unexpected{HeaderRejection::kBadSignature};
        }
        if (it->second.root == header.header.state_root) {
            ++stats_.known;  // the same root signed twice (ECDSA signatures need not be unique)
            return HeaderVerdict::kKnown;
        }
        ++stats_.conflicts;
        return tl::unexpected{HeaderRejection::kConflict};
    }
    if (headers_.size() >= capacity_ && number < headers_.begin()->first) {
        ++stats_.too_old;
        return HeaderVerdict::kTooOld;
    }
    if (!verify_header(header, trusted_)) {
        ++stats_.rejected;
        return tl::unexpected{HeaderRejection::kBadSignature};
    }
    headers_.emplace(number, Held{header.header.state_root, Bytes{encoded}});
    while (headers_.size() > capacity_) headers_.erase(headers_.begin());
    ++stats_.accepted;
    return HeaderVerdict::kNew;
}

tl::expected<std::size_t, HeaderRejection> HeaderBook::accept_answer(const proto::GetHeaders& asked,
                                                                     const proto::Headers& answer) {
    std::size_t added = 0;
    auto take = [&](const auto& verdict) -> tl::expected<void, HeaderRejection> {  // accept()'s result
        if (!verdict) return tl::unexpected{verdict.error()};
        if (*verdict == HeaderVerdict::kNew) ++added;
        return {};
    };
    if (!answer.latest.empty()) {
        if (auto r = take(accept(answer.latest)); !r) return tl::unexpected{r.error()};
    }
    std::optional<uint64_t> previous;
    for (const Bytes& encoded : answer.headers) {
        auto header = decode_signed_header(encoded);
        if (!header) {
            ++stats_.rejected;
            return tl::unexpected{HeaderRejection::kUndecodable};
        }
        const uint64_t number = header->header.number;
        const bool inside = number >= asked.first && number - asked.first < asked.count;
        if (!inside || (previous && number <= *previous)) {
            ++stats_.rejected;
            return tl::unexpected{HeaderRejection::kOutOfRange};
        }
        previous = number;
        if (auto r = take(accept(*header, encoded)); !r) return tl::unexpected{r.error()};
    }
    return added;
}

std::optional<Hash> HeaderBook::root(uint64_t number) const {
    auto it = headers_.find(number);
    if (it == headers_.end()) return std::nullopt;
    return it->second.root;
}

std::optional<Header> HeaderBook::latest() const {
    if (headers_.empty()) return std::nullopt;
    const auto& [number, held] = *headers_.rbegin();
    return Header{number, held.root};
}

std::optional<ByteView> HeaderBook::encoded(uint64_t number) const {
    auto it = headers_.find(number);
    if (it == headers_.end()) return std::nullopt;
    return ByteView{it->second.encoded};
}

proto::Headers HeaderBook::answer(const proto::GetHeaders& request) const {
    proto::Headers out;
    out.request_id = request.request_id;
    if (headers_.empty()) return out;
    out.latest = headers_.rbegin()->second.encoded;
    const uint64_t count = std::min(request.count, proto::kMaxHeadersPerRequest);
    for (auto it = headers_.lower_bound(request.first); it != headers_.end() && it->first - request.first < count;
         ++it) {
        out.headers.push_back(it->second.encoded);
    }
    return out;
}

HeaderSource HeaderBook::source() const {
    return [this](uint64_t number) { return root(number); };
}

}  // namespace carousel::mgr
