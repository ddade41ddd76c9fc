// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Genesis import and state roots against known roots: real network genesis files
// (tests/data/genesis, roots in expected_roots.json), ethereum/tests GenesisTests and BasicTests, and
// the pre/post account sets of BlockchainTests fixtures (tests/data/state). Sources are listed in
// tests/data/README.md.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/core/rlp_item.hpp>
#include <carousel/state/genesis.hpp>
#include <carousel/state/roots.hpp>

namespace carousel::state {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kData{CAROUSEL_TEST_DATA};

json load_json(const fs::path& path) {
    std::ifstream in{path};
    if (!in) {
        ADD_FAILURE() << "cannot open " << path;
        return json::object();
    }
    return json::parse(in);
}

std::string root_hex(const GenesisState& s) { return to_hex_prefixed(view(state_root(s))); }

// Adds "0x" unless present (ethereum/tests writes some roots without it) and lower-cases.
std::string normalized(std::string h) {
    for (char& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return h.starts_with("0x") ? h : "0x" + h;
}

// The header list of a block given as RLP hex, decoded with the generic item decoder.
rlp::Item block_header(std::string_view block_rlp_hex) {
    const auto block = rlp::decode_item(from_hex(block_rlp_hex).value());
    EXPECT_TRUE(block) << rlp::to_string(block.error());
    if (!block || !block->list || block->items.empty() || !block->items[0].list) {
        ADD_FAILURE() << "not a block";
        return {};
    }
    return block->items[0];
}

// ---- real networks ------------------------------------------------------------------------------

TEST(GenesisNetworks, RootsMatchExpected) {
    const json expected = load_json(kData / "genesis" / "expected_roots.json");
    ASSERT_EQ(expected.size(), 3u);
    for (const char* file : {"mainnet.json", "sepolia.json", "goerli.json"}) {
        SCOPED_TRACE(file);
        const json& e = expected.at(file);
        auto state = load_genesis(kData / "genesis" / file);
        ASSERT_TRUE(state) << state.error().message;
        EXPECT_EQ(root_hex(*state), e.at("stateRoot").get<std::string>());
        EXPECT_EQ(state->account_count(), e.at("accounts").get<std::size_t>());
        EXPECT_EQ(state->contract_count(), e.at("accountsWithCode").get<std::size_t>());
        EXPECT_EQ(state->storage.size(), e.at("accountsWithStorage").get<std::size_t>());
        EXPECT_EQ(state->slot_count(), 0u);
        EXPECT_TRUE(state->code.empty());
    }
}

// ethereum/tests BasicTests/genesishashestest.json: the mainnet genesis block, its state root and
// hash. The root must match our mainnet.json import, and the block's own header must carry it.
TEST(GenesisNetworks, MainnetGenesisHashesTest) {
    const json t = load_json(kData / "ethereum-tests" / "BasicTests" / "genesishashestest.json");
    const std::string expected_root = normalized(t.at("genesis_state_root").get<std::string>());
    EXPECT_EQ(expected_root, "0xd7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544");

    const rlp::Item header = block_header(t.at("genesis_rlp_hex").get<std::string>());
    ASSERT_GT(header.items.size(), 3u);
    EXPECT_EQ(to_hex_prefixed(header.items[3].bytes), expected_root);
    EXPECT_EQ(to_hex(keccak256(rlp::encode(header))), normalized(t.at("genesis_hash").get<std::string>()).substr(2));

    auto state = load_genesis(kData / "genesis" / "mainnet.json");
    ASSERT_TRUE(state) << state.error().message;
    EXPECT_EQ(root_hex(*state), expected_root);
}

// ethereum/tests GenesisTests/basic_genesis_tests.json: the state root of `alloc` is field 3 of the
// header inside `result`. test1 has code and a storage slot, test2 uses "wei", test3 is empty.
TEST(GenesisNetworks, BasicGenesisTests) {
    const json tests = load_json(kData / "ethereum-tests" / "GenesisTests" / "basic_genesis_tests.json");
    ASSERT_EQ(tests.size(), 3u);
    for (const auto& [name, test] : tests.items()) {
        SCOPED_TRACE(name);
        const rlp::Item header = block_header(test.at("result").get<std::string>());
        ASSERT_GT(header.items.size(), 3u);
        auto state = parse_accounts(test.at("alloc"), "alloc");
        ASSERT_TRUE(state) << state.error().message;
        EXPECT_EQ(root_hex(*state), to_hex_prefixed(header.items[3].bytes));
    }
    EXPECT_EQ(root_hex(*parse_accounts(tests.at("test1").at("alloc"), "alloc")),
              "0xdd406a973a0a5a9826d00da276e996d28426d24f12b8fa683723e9db532b8c59");
    EXPECT_EQ(root_hex(*parse_accounts(tests.at("test3").at("alloc"), "alloc")), to_hex_prefixed(view(kEmptyTrieRoot)));
}

// ---- BlockchainTests pre and post states --------------------------------------------------------

// The stateRoot of the header whose hash is `hash`: the genesis header or a valid block's header
// (invalid blocks carry no header; the last entry of `blocks` is not necessarily the head).
std::optional<std::string> state_root_of_block(const json& test, const std::string& hash) {
    if (test.at("genesisBlockHeader").at("hash") == hash) return test["genesisBlockHeader"]["stateRoot"];
    for (const json& block : test.at("blocks")) {
        const auto header = block.find("blockHeader");
        if (header != block.end() && header->at("hash") == hash) return header->at("stateRoot").get<std::string>();
    }
    return std::nullopt;
}

TEST(GenesisBlockchainTests, PreAndPostStateRoots) {
    const json manifest = load_json(kData / "state" / "manifest.json");
    std::size_t tests_seen = 0;
    std::size_t post_checked = 0;
    for (const json& file : manifest.at("files")) {
        const std::string rel = file.at("file");
        SCOPED_TRACE(rel);
        const json fixture = load_json(kData / "state" / rel);
        ASSERT_EQ(fixture.size(), file.at("tests").size());
        for (const json& expect : file.at("tests")) {
            const std::string name = expect.at("name");
            SCOPED_TRACE(name);
            ASSERT_TRUE(fixture.contains(name));
            const json& test = fixture.at(name);
            ++tests_seen;

            // 1. stateRoot(pre) is the genesis header's.
            auto pre = parse_accounts(test.at("pre"), "pre");
            ASSERT_TRUE(pre) << pre.error().message;
            EXPECT_EQ(root_hex(*pre), test.at("genesisBlockHeader").at("stateRoot").get<std::string>());
            EXPECT_EQ(root_hex(*pre), expect.at("preStateRoot").get<std::string>());
            EXPECT_EQ(pre->account_count(), expect.at("preAccounts").get<std::size_t>());
            EXPECT_EQ(pre->contract_count(), expect.at("preAccountsWithCode").get<std::size_t>());
            EXPECT_EQ(pre->storage.size(), expect.at("preAccountsWithStorage").get<std::size_t>());
            EXPECT_EQ(pre->slot_count(), expect.at("preStorageSlots").get<std::size_t>());

            // 2. stateRoot(postState) is the head block's (when the accounts are given).
            if (!test.contains("postState")) {
                EXPECT_TRUE(test.contains("postStateHash"));
                continue;
            }
            auto post = parse_accounts(test.at("postState"), "postState");
            ASSERT_TRUE(post) << post.error().message;
            const auto head_root = state_root_of_block(test, test.at("lastblockhash").get<std::string>());
            ASSERT_TRUE(head_root.has_value()) << "no header with lastblockhash";
            EXPECT_EQ(root_hex(*post), *head_root);
            EXPECT_EQ(root_hex(*post), expect.at("postStateRoot").get<std::string>());
            EXPECT_EQ(post->account_count(), expect.at("postAccounts").get<std::size_t>());
            EXPECT_EQ(post->slot_count(), expect.at("postStorageSlots").get<std::size_t>());
            const auto empty = std::count_if(post->accounts.begin(), post->accounts.end(), [](const auto& a) {
                return a.second.is_empty() && a.second.storage_root == kEmptyTrieRoot;
            });
            EXPECT_EQ(static_cast<std::size_t>(empty), expect.at("postEmptyAccounts").get<std::size_t>());
            ++post_checked;
        }
    }
    EXPECT_EQ(tests_seen, 17u);
    EXPECT_EQ(post_checked, 15u);
}

// Every fixture file under state/ is in the manifest (so the test above sees them all).
TEST(GenesisBlockchainTests, ManifestCoversEveryFixture) {
    const json manifest = load_json(kData / "state" / "manifest.json");
    std::set<std::string> listed;
    for (const json& file : manifest.at("files")) listed.insert(file.at("file").get<std::string>());
    std::size_t found = 0;
    for (const auto& entry : fs::recursive_directory_iterator(kData / "state" / "BlockchainTests")) {
        if (entry.path().extension() != ".json") continue;
        ++found;
        EXPECT_TRUE(listed.contains(fs::relative(entry.path(), kData / "state").generic_string())) << entry.path();
    }
    EXPECT_EQ(found, 12u);
}

// ---- accepted spellings -------------------------------------------------------------------------

GenesisState parse_ok(std::string_view text) {
    auto s = parse_genesis(text);
    EXPECT_TRUE(s) << s.error().message << "\nin: " << text;
    return s ? *s : GenesisState{};
}

TEST(GenesisParse, SpellingsOfTheSameState) {
    // One account: balance 1000, nonce 2, code 0x6000, storage {1: 0x0a}.
    const std::string reference = root_hex(parse_ok(R"({"alloc": {"0x00000000000000000000000000000000000000aa":
        {"balance": "0x3e8", "nonce": "0x2", "code": "0x6000", "storage": {"0x01": "0x0a"}}}})"));
    const char* spellings[] = {
        // no 0x, upper case, decimal strings, "wei"
        R"({"alloc": {"00000000000000000000000000000000000000AA":
            {"wei": "1000", "nonce": "2", "code": "6000", "storage": {"1": "a"}}}})",
        // JSON numbers; 0X prefixes; 32-byte slot key and value
        R"({"alloc": {"0X00000000000000000000000000000000000000aA":
            {"balance": 1000, "nonce": 2, "code": "0X6000",
             "storage": {"0x0000000000000000000000000000000000000000000000000000000000000001":
                         "0x000000000000000000000000000000000000000000000000000000000000000a"}}}})",
        // zero slots are absent; unknown and null fields are ignored; config and header fields too
        R"({"config": {"chainId": 1, "terminalTotalDifficulty": 58750000000000000000000},
            "nonce": "0x000000000000000", "gasLimit": "0x1388",
            "alloc": {"0x00000000000000000000000000000000000000aa":
            {"balance": "0x00003e8", "nonce": "0x02", "code": "0x6000", "privateKey": "0x12", "comment": "x",
             "storage": {"0x01": "0x0a", "0x02": "0x00", "0x0003": "0x0000"}, "secretKey": null}}})",
    };
    for (const char* text : spellings) {
        const GenesisState s = parse_ok(text);
        EXPECT_EQ(root_hex(s), reference) << text;
        EXPECT_EQ(s.slot_count(), 1u);
    }
    const GenesisState s = parse_ok(spellings[0]);
    ASSERT_EQ(s.accounts.size(), 1u);
    EXPECT_EQ(s.accounts[0].second.nonce, 2u);
    EXPECT_EQ(s.accounts[0].second.balance, U256{1000});
    EXPECT_EQ(s.accounts[0].second.code_hash, keccak256("6000"_hex));
    ASSERT_EQ(s.code.size(), 1u);
    EXPECT_EQ(s.code.begin()->second, "6000"_hex);
    ASSERT_EQ(s.storage.size(), 1u);
    EXPECT_EQ(s.storage.begin()->second[0], (StorageSlot{U256{1}.to_word(), U256{10}}));
    EXPECT_EQ(s.contract_count(), 1u);
}

TEST(GenesisParse, EmptyAccountsAreKept) {
    const GenesisState one = parse_ok(R"({"alloc": {"0x0000000000000000000000000000000000000001": {"balance": "1"}}})");
    const GenesisState with_empty =
        parse_ok(R"({"alloc": {"0x0000000000000000000000000000000000000001": {"balance": "1"},
        "0x0000000000000000000000000000000000000002": {}}})");
    EXPECT_EQ(with_empty.account_count(), 2u);
    EXPECT_NE(root_hex(one), root_hex(with_empty));
    // An empty account is the leaf RLP([0, 0, emptyRoot, emptyCodeHash]).
    const GenesisState only_empty =
        parse_ok(R"({"alloc": {"0x0000000000000000000000000000000000000002": {"code": "0x"}}})");
    const std::vector<std::pair<Address, Account>> expected = {
        {Address{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, Account{}}};
    EXPECT_EQ(root_hex(only_empty), to_hex_prefixed(view(account_trie_root(expected))));
    EXPECT_EQ(only_empty.contract_count(), 0u);
    EXPECT_TRUE(only_empty.code.empty());
}

TEST(GenesisParse, ExtremeValues) {
    const GenesisState s = parse_ok(R"({"alloc": {"0x0000000000000000000000000000000000000001": {
        "balance": "115792089237316195423570985008687907853269984665640564039457584007913129639935",
        "nonce": "0xffffffffffffffff",
        "storage": {"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff":
                    "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"}}}})");
    ASSERT_EQ(s.accounts.size(), 1u);
    EXPECT_EQ(s.accounts[0].second.balance, U256::max());
    EXPECT_EQ(s.accounts[0].second.nonce, UINT64_MAX);
    EXPECT_EQ(s.slot_count(), 1u);
}

TEST(GenesisParse, AccountsAreSortedAndSharedCodeStoredOnce) {
    const GenesisState s = parse_ok(R"({"alloc": {
        "0x0000000000000000000000000000000000000003": {"code": "0x60016000"},
        "0x0000000000000000000000000000000000000001": {"code": "0x60016000"},
        "0x0000000000000000000000000000000000000002": {"balance": "0x1"}}})");
    ASSERT_EQ(s.accounts.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(s.accounts[i].first[19], i + 1);
    EXPECT_EQ(s.contract_count(), 2u);
    EXPECT_EQ(s.code.size(), 1u);
}

// ---- bad inputs ---------------------------------------------------------------------------------

TEST(GenesisParse, BadInputsNameTheProblem) {
    const std::string a = "0x00000000000000000000000000000000000000aa";
    auto alloc = [&](const std::string& account) { return R"({"alloc": {")" + a + R"(": )" + account + "}}"; };
    struct Case {
        std::string text;
        std::string message;  // the whole error message
    };
    const std::vector<Case> cases = {
        {"",
         "invalid JSON: parse error at line 1, column 1: syntax error while parsing value - unexpected end of "
         "input; expected '[', '{', or a literal"},
        {R"({"alloc": {)",
         "invalid JSON: parse error at line 1, column 12: syntax error while parsing object key - "
         "unexpected end of input; expected string literal"},
        {"[]", "expected a JSON object at the top, got array"},
        {"{}", R"(no "alloc" (expected a geth or besu genesis.json, or {"alloc": {...}}))"},
        {R"({"alloc": []})", "alloc: expected an object of accounts, got array"},
        {R"({"alloc": {"0xzz": {}}})", R"(alloc: bad address "0xzz": expected 40 hex digits)"},
        {R"({"alloc": {"0x00000000000000000000000000000000000000a": {}}})",
         R"(alloc: bad address "0x00000000000000000000000000000000000000a": expected 40 hex digits)"},
        {alloc(R"("0x1")"), "alloc." + a + ": expected an object, got string"},
        {alloc(R"({"balance": "12x"})"), "alloc." + a + R"(.balance: not a number: "12x")"},
        {alloc(R"({"balance": "0x"})"), "alloc." + a + R"(.balance: not a number: "0x" has no digits)"},
        {alloc(R"({"balance": "1\n2"})"), "alloc." + a + R"(.balance: not a number: "1\x0a2")"},
        {alloc(R"({"balance": "0xfg"})"), "alloc." + a + R"(.balance: not a number: "0xfg")"},
        {alloc(R"({"wei": "1.5"})"), "alloc." + a + R"(.wei: not a number: "1.5")"},
        {alloc(R"({"balance": "0x10000000000000000000000000000000000000000000000000000000000000000"})"),
         "alloc." + a + R"(.balance: exceeds 2^256-1: "0x1000000000000000000000000000000000000000000000…")"},
        {alloc(R"({"balance": "115792089237316195423570985008687907853269984665640564039457584007913129639936"})"),
         "alloc." + a + R"(.balance: exceeds 2^256-1: "115792089237316195423570985008687907853269984665…")"},
        {alloc(R"({"balance": -1})"), "alloc." + a + ".balance: negative: -1"},
        {alloc(R"({"balance": 1.5})"),
         "alloc." + a + ".balance: not an exact integer: 1.5 (write large numbers as strings)"},
        {alloc(R"({"balance": 1e30})"),
         "alloc." + a + ".balance: not an exact integer: 1e+30 (write large numbers as strings)"},
        {alloc(R"({"balance": [1]})"), "alloc." + a + ".balance: expected a number, got array"},
        {alloc(R"({"balance": "1", "wei": "1"})"), "alloc." + a + R"(: both "balance" and "wei" are given)"},
        {alloc(R"({"nonce": "0x10000000000000000"})"),
         "alloc." + a + R"(.nonce: exceeds 2^64-1: "0x10000000000000000")"},
        {alloc(R"({"nonce": "18446744073709551616"})"),
         "alloc." + a + R"(.nonce: exceeds 2^64-1: "18446744073709551616")"},
        {alloc(R"({"code": "0x60zz"})"), "alloc." + a + R"(.code: not hex: "0x60zz")"},
        {alloc(R"({"code": "0x600"})"), "alloc." + a + R"(.code: odd number of hex digits: "0x600")"},
        {alloc(R"({"code": 96})"), "alloc." + a + ".code: expected a string, got number"},
        {alloc(R"({"storage": []})"), "alloc." + a + ".storage: expected an object, got array"},
        {alloc(R"({"storage": {"0x01": 1}})"), "alloc." + a + ".storage.0x01: expected a string, got number"},
        {alloc(R"({"storage": {"0x01": "0xzz"}})"), "alloc." + a + R"(.storage.0x01: not hex: "0xzz")"},
        {alloc(R"({"storage": {"0x01": "0x"}})"), "alloc." + a + R"(.storage.0x01: no hex digits: "0x")"},
        {alloc(R"({"storage": {"0x01": "0x01)" + std::string(64, '0') + R"("}})"),
         "alloc." + a + R"(.storage.0x01: longer than 32 bytes: "0x0100000000000000000000000000000000000000000000…")"},
        {alloc(R"({"storage": {"0xg1": "0x01"}})"), "alloc." + a + R"(.storage: bad slot: not hex: "0xg1")"},
        {alloc(R"({"storage": {"0x1)" + std::string(64, '0') + R"(": "0x01"}})"),
         "alloc." + a +
             R"(.storage: bad slot: longer than 32 bytes: "0x1000000000000000000000000000000000000000000000…")"},
        {alloc(R"({"storage": {"0x1": "0x01", "0x0001": "0x02"}})"),
         "alloc." + a + R"(.storage: slot "0x1" is listed twice (also as "0x0001"))"},
        {R"({"alloc": {"0x00000000000000000000000000000000000000aa": {}, "00000000000000000000000000000000000000AA": {}}})",
         R"(alloc: address "0x00000000000000000000000000000000000000aa" is listed twice (also as "00000000000000000000000000000000000000AA"))"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.text);
        auto s = parse_genesis(c.text);
        ASSERT_FALSE(s) << "accepted";
        EXPECT_EQ(s.error().message, c.message);
    }
}

TEST(GenesisParse, FileErrors) {
    auto missing = load_genesis(kData / "no-such-genesis.json");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "no such file");

    auto dir = load_genesis(kData);
    ASSERT_FALSE(dir);
    EXPECT_EQ(dir.error().message, "is a directory, not a file");

    // A file that is not a genesis file at all.
    auto manifest = load_genesis(kData / "state" / "manifest.json");
    ASSERT_FALSE(manifest);
    EXPECT_EQ(manifest.error().message, R"(no "alloc" (expected a geth or besu genesis.json, or {"alloc": {...}}))");
}

}  // namespace
}  // namespace carousel::state
