// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "genesis.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <system_error>

#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>

#include "roots.hpp"

namespace carousel::state {
namespace {

using nlohmann::json;

// Problems are reported as plain strings and get their path prefix where the path is known.
template <class T>
using Parsed = tl::expected<T, std::string>;

GenesisError error_at(std::string_view path, std::string_view what) {
    return GenesisError{std::string{path} + ": " + std::string{what}};
}

// The path of `key` inside the object at `path`: "alloc.0xabc…".
std::string child(std::string_view path, std::string_view key) {
    std::string out;
    out.reserve(path.size() + 1 + key.size());
    out.append(path).append(".").append(key);
    return out;
}

// `s` in quotes, cut (on a UTF-8 boundary) if long: file contents echoed into one error line.
std::string in_quotes(std::string_view s) {
    constexpr std::size_t kMax = 48;
    std::size_t cut = s.size();
    if (cut > kMax) {
        cut = kMax;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
    }
    std::string out;
    out.reserve(cut + 6);
    out.push_back('"');
    // Control characters would break the one-line message: write them as \xNN.
    for (const char c : s.substr(0, cut)) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u != 0x7f) {
            out.push_back(c);
            continue;
        }
        constexpr char kHex[] = "0123456789abcdef";
        out.append("\\x");
        out.push_back(kHex[u >> 4]);
        out.push_back(kHex[u & 0xf]);
    }
    if (cut < s.size()) out.append("…");
    out.push_back('"');
    return out;
}

std::string_view strip_hex_prefix(std::string_view s) {
    if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
    return s;
}

bool all_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

std::string got(const json& j) { return std::string{"expected a string, got "} + j.type_name(); }

// A balance or nonce: a hex ("0x...") or decimal string, or a non-negative JSON integer.
Parsed<U256> parse_quantity(const json& j, std::string_view limit) {
    if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        auto v = U256::from_quantity(s);
        if (v) return *v;
        switch (v.error()) {
            case NumberError::kEmpty:
                return tl::unexpected{"not a number: " + in_quotes(s) + " has no digits"};
            case NumberError::kBadDigit:
                return tl::unexpected{"not a number: " + in_quotes(s)};
            case NumberError::kOverflow:
                return tl::unexpected{"exceeds " + std::string{limit} + ": " + in_quotes(s)};
        }
    }
    if (j.is_number_unsigned()) return U256{j.get<uint64_t>()};
    if (j.is_number_integer()) return tl::unexpected{"negative: " + j.dump()};
    if (j.is_number_float()) {
        return tl::unexpected{"not an exact integer: " + j.dump() + " (write large numbers as strings)"};
    }
    return tl::unexpected{std::string{"expected a number, got "} + j.type_name()};
}

// Code: hex with or without "0x".
Parsed<Bytes> parse_code(const json& j) {
    if (!j.is_string()) return tl::unexpected{got(j)};
    const auto& s = j.get_ref<const std::string&>();
    const std::string_view digits = strip_hex_prefix(s);
    if (!all_hex(digits)) return tl::unexpected{"not hex: " + in_quotes(s)};
    if (digits.size() % 2 != 0) return tl::unexpected{"odd number of hex digits: " + in_quotes(s)};
    return *from_hex(digits);
}

// A storage slot key or value: hex with or without "0x", 1 to 64 digits.
Parsed<U256> parse_word(const json& j) {
    if (!j.is_string()) return tl::unexpected{got(j)};
    const auto& s = j.get_ref<const std::string&>();
    const std::string_view digits = strip_hex_prefix(s);
    if (digits.empty()) return tl::unexpected{"no hex digits: " + in_quotes(s)};
    if (!all_hex(digits)) return tl::unexpected{"not hex: " + in_quotes(s)};
    if (digits.size() > 64) return tl::unexpected{"longer than 32 bytes: " + in_quotes(s)};
    return *U256::from_hex(digits);
}

std::optional<Address> parse_address(std::string_view s) {
    const std::string_view digits = strip_hex_prefix(s);
    if (digits.size() != 40) return std::nullopt;
    auto b = from_hex(digits);
    if (!b) return std::nullopt;
    Address a{};
    std::copy(b->begin(), b->end(), a.begin());
    return a;
}

// A field that is absent or null counts as absent (as Go's encoding/json treats null).
const json* field(const json& obj, const char* name) {
    const auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

struct ParsedAccount {
    Account account;
    Bytes code;
    std::vector<StorageSlot> storage;  // non-zero, sorted by key
};

GenesisResult<std::vector<StorageSlot>> parse_storage(const json& j, const std::string& path) {
    if (!j.is_object()) return tl::unexpected{error_at(path, std::string{"expected an object, got "} + j.type_name())};
    struct Entry {
        StorageSlot slot;
        const std::string* written;  // the key as written, for messages
    };
    std::vector<Entry> entries;
    entries.reserve(j.size());
    for (const auto& [key, value] : j.items()) {
        auto k = parse_word(json(key));
        if (!k) return tl::unexpected{error_at(path, "bad slot: " + k.error())};
        auto v = parse_word(value);
        if (!v) return tl::unexpected{error_at(child(path, key), v.error())};
        entries.push_back({{k->to_word(), *v}, &key});
    }
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.slot.key < b.slot.key; });
    for (std::size_t i = 1; i < entries.size(); ++i) {
        if (entries[i].slot.key == entries[i - 1].slot.key) {
            return tl::unexpected{error_at(path, "slot " + in_quotes(*entries[i].written) +
                                                     " is listed twice (also as " + in_quotes(*entries[i - 1].written) +
                                                     ")")};
        }
    }
    std::vector<StorageSlot> out;
    out.reserve(entries.size());
    for (const Entry& e : entries) {
        if (!e.slot.value.is_zero()) out.push_back(e.slot);
    }
    return out;
}

GenesisResult<ParsedAccount> parse_account(const json& j, const std::string& path) {
    if (!j.is_object()) return tl::unexpected{error_at(path, std::string{"expected an object, got "} + j.type_name())};
    ParsedAccount out;

    const json* balance = field(j, "balance");
    const json* wei = field(j, "wei");
    if (balance && wei) return tl::unexpected{error_at(path, R"(both "balance" and "wei" are given)")};
    if (balance || wei) {
        auto v = parse_quantity(balance ? *balance : *wei, "2^256-1");
        if (!v) return tl::unexpected{error_at(path + (balance ? ".balance" : ".wei"), v.error())};
        out.account.balance = *v;
    }
    if (const json* nonce = field(j, "nonce")) {
        auto v = parse_quantity(*nonce, "2^64-1");
        if (v && !v->fits_uint64()) v = tl::unexpected{"exceeds 2^64-1: " + nonce->dump()};
        if (!v) return tl::unexpected{error_at(path + ".nonce", v.error())};
        out.account.nonce = v->low64();
    }
    if (const json* code = field(j, "code")) {
        auto c = parse_code(*code);
        if (!c) return tl::unexpected{error_at(path + ".code", c.error())};
        out.code = std::move(*c);
        out.account.code_hash = keccak256(out.code);
    }
    if (const json* storage = field(j, "storage")) {
        auto s = parse_storage(*storage, path + ".storage");
        if (!s) return tl::unexpected{s.error()};
        out.storage = std::move(*s);
        out.account.storage_root = storage_root(out.storage);
    }
    return out;
}

}  // namespace

std::size_t GenesisState::contract_count() const noexcept {
    return static_cast<std::size_t>(std::count_if(accounts.begin(), accounts.end(),
                                                  [](const auto& a) { return a.second.code_hash != kEmptyCodeHash; }));
}

std::size_t GenesisState::slot_count() const noexcept {
    std::size_t n = 0;
    for (const auto& [address, slots] : storage) n += slots.size();
    return n;
}

GenesisResult<GenesisState> parse_accounts(const nlohmann::json& accounts, std::string_view where) {
    if (!accounts.is_object()) {
        return tl::unexpected{
            error_at(where, std::string{"expected an object of accounts, got "} + accounts.type_name())};
    }
    GenesisState state;
    std::vector<const std::string*> written;  // each account's key as written, for messages
    state.accounts.reserve(accounts.size());
    for (const auto& [key, value] : accounts.items()) {
        const std::string path = child(where, key);
        const auto address = parse_address(key);
        if (!address)
            return tl::unexpected{error_at(where, "bad address " + in_quotes(key) + ": expected 40 hex digits")};
        auto parsed = parse_account(value, path);
        if (!parsed) return tl::unexpected{parsed.error()};
        state.accounts.emplace_back(*address, parsed->account);
        written.push_back(&key);
        if (!parsed->code.empty()) state.code.emplace(parsed->account.code_hash, std::move(parsed->code));
        if (!parsed->storage.empty()) state.storage.emplace(*address, std::move(parsed->storage));
    }

    // Sort by address, carrying the written keys along, then reject an address given twice (the same
    // address in another case or without "0x" is another JSON key).
    std::vector<std::size_t> order(state.accounts.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return state.accounts[a].first < state.accounts[b].first; });
    std::vector<std::pair<Address, Account>> sorted;
    sorted.reserve(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (i > 0 && state.accounts[order[i]].first == state.accounts[order[i - 1]].first) {
            return tl::unexpected{error_at(where, "address " + in_quotes(*written[order[i]]) +
                                                      " is listed twice (also as " + in_quotes(*written[order[i - 1]]) +
                                                      ")")};
        }
        sorted.push_back(state.accounts[order[i]]);
    }
    state.accounts = std::move(sorted);
    return state;
}

GenesisResult<GenesisState> parse_genesis(std::string_view json_text) {
    json doc;
    try {
        doc = json::parse(json_text);
    } catch (const json::exception& e) {
        // Drop nlohmann's "[json.exception.parse_error.101] " tag; keep line, column and reason.
        std::string_view what = e.what();
        if (const auto tag_end = what.find("] "); !what.empty() && what[0] == '[' && tag_end != what.npos) {
            what.remove_prefix(tag_end + 2);
        }
        return tl::unexpected{GenesisError{"invalid JSON: " + std::string{what}}};
    }
    if (!doc.is_object()) {
        return tl::unexpected{GenesisError{std::string{"expected a JSON object at the top, got "} + doc.type_name()}};
    }
    const auto alloc = doc.find("alloc");
    if (alloc == doc.end()) {
        return tl::unexpected{
            GenesisError{R"(no "alloc" (expected a geth or besu genesis.json, or {"alloc": {...}}))"}};
    }
    return parse_accounts(*alloc, "alloc");
}

GenesisResult<GenesisState> load_genesis(const std::filesystem::path& file) {
    std::error_code ec;
    const auto status = std::filesystem::status(file, ec);
    if (status.type() == std::filesystem::file_type::not_found) {
        return tl::unexpected{GenesisError{"no such file"}};
    }
    if (ec) return tl::unexpected{GenesisError{"cannot open: " + ec.message()}};
    if (std::filesystem::is_directory(status)) return tl::unexpected{GenesisError{"is a directory, not a file"}};

    // stdio rather than a stream: it reports why an open failed through errno.
    std::FILE* f = std::fopen(file.c_str(), "rb");
    if (f == nullptr) return tl::unexpected{GenesisError{"cannot open: " + std::generic_category().message(errno)}};
    std::string text;
    char buf[1 << 16];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    const bool failed = std::ferror(f) != 0;
    (void)std::fclose(f);  // read-only: nothing to flush
    if (failed) return tl::unexpected{GenesisError{"read error"}};
    return parse_genesis(text);
}

Hash state_root(const GenesisState& state) { return account_trie_root(state.accounts); }

}  // namespace carousel::state
