// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// RLP: the official ethereum/tests RLPTests vectors (tests/data/ethereum-tests/RLPTests, see
// tests/data/README.md), a table mapping hand-made bad inputs to each DecodingError (as silkworm's
// core/rlp/decode_test.cpp), truncation and mutation sweeps, and the integer decoders.
#include <algorithm>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/core/rlp.hpp>
#include <carousel/core/rlp_item.hpp>

namespace carousel::rlp {
namespace {

using nlohmann::json;

json load_json(const std::string& relative) {
    const std::string path = std::string{CAROUSEL_TEST_DATA} + "/" + relative;
    std::ifstream in{path};
    if (!in) {
        ADD_FAILURE() << "cannot open " << path;
        return json::object();
    }
    return json::parse(in);
}

// Decimal digits -> minimal big-endian bytes, any size (the "#" big-integer cases of rlptest.json).
Bytes decimal_to_big_endian(std::string_view digits) {
    Bytes be;  // big-endian, no leading zeros
    for (char c : digits) {
        EXPECT_TRUE(c >= '0' && c <= '9') << "bad digit in " << digits;
        unsigned carry = static_cast<unsigned>(c - '0');
        for (auto it = be.rbegin(); it != be.rend(); ++it) {
            const unsigned v = static_cast<unsigned>(*it) * 10 + carry;
            *it = static_cast<uint8_t>(v & 0xff);
            carry = v >> 8;
        }
        if (carry != 0) be.insert(be.begin(), static_cast<uint8_t>(carry));
    }
    return be;
}

Bytes uint64_to_big_endian(uint64_t v) {
    Bytes be;
    for (; v != 0; v >>= 8) be.insert(be.begin(), static_cast<uint8_t>(v & 0xff));
    return be;
}

// The "in" side of rlptest.json as an item tree (see the vectors README for the format).
Item item_from_json(const json& j) {
    if (j.is_array()) {
        std::vector<Item> items;
        for (const json& e : j) items.push_back(item_from_json(e));
        return Item::make_list(std::move(items));
    }
    if (j.is_number_unsigned()) return Item::string(uint64_to_big_endian(j.get<uint64_t>()));
    if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        if (!s.empty() && s[0] == '#') return Item::string(decimal_to_big_endian(std::string_view{s}.substr(1)));
        return Item::string(view(s));
    }
    ADD_FAILURE() << "unexpected input " << j.dump();
    return {};
}

Bytes hex_or_fail(const std::string& s) {
    auto b = from_hex(s);
    EXPECT_TRUE(b.has_value()) << "bad hex in vector: " << s;
    return b.value_or(Bytes{});
}

// ---- ethereum/tests RLPTests -------------------------------------------------------------------

TEST(RlpTests, DecimalConverter) {
    EXPECT_EQ(decimal_to_big_endian("0"), Bytes{});
    EXPECT_EQ(decimal_to_big_endian("255"), "ff"_hex);
    EXPECT_EQ(decimal_to_big_endian("256"), "0100"_hex);
    EXPECT_EQ(decimal_to_big_endian("83729609699884896815286331701780722"), "102030405060708090a0b0c0d0e0f2"_hex);
}

TEST(RlpTests, ValidCasesEncodeAndRoundTrip) {
    const json tests = load_json("ethereum-tests/RLPTests/rlptest.json");
    ASSERT_EQ(tests.size(), 28u);
    for (const auto& [name, test] : tests.items()) {
        SCOPED_TRACE(name);
        const Item in = item_from_json(test.at("in"));
        const Bytes out = hex_or_fail(test.at("out").get<std::string>());

        EXPECT_EQ(to_hex(encode(in)), to_hex(out));
        EXPECT_EQ(length(in), out.size());

        EXPECT_TRUE(validate(out));
        auto decoded = decode_item(out);
        ASSERT_TRUE(decoded) << to_string(decoded.error());
        EXPECT_EQ(*decoded, in);
        EXPECT_EQ(to_hex(encode(*decoded)), to_hex(out));
    }
}

TEST(RlpTests, InvalidCasesRejected) {
    const json tests = load_json("ethereum-tests/RLPTests/invalidRLPTest.json");
    ASSERT_EQ(tests.size(), 26u);
    for (const auto& [name, test] : tests.items()) {
        SCOPED_TRACE(name);
        ASSERT_EQ(test.at("in"), "INVALID");
        // `out` may lack the 0x prefix or be upper case (README format trap); from_hex takes both.
        const Bytes out = hex_or_fail(test.at("out").get<std::string>());
        EXPECT_FALSE(validate(out));
        EXPECT_FALSE(decode_item(out));
    }
}

TEST(RlpTests, RandomExampleAccepted) {
    const json tests = load_json("ethereum-tests/RLPTests/RandomRLPTests/example.json");
    ASSERT_EQ(tests.size(), 1u);
    for (const auto& [name, test] : tests.items()) {
        SCOPED_TRACE(name);
        ASSERT_EQ(test.at("in"), "VALID");
        const Bytes out = hex_or_fail(test.at("out").get<std::string>());
        EXPECT_TRUE(validate(out));
        auto decoded = decode_item(out);
        ASSERT_TRUE(decoded) << to_string(decoded.error());
        EXPECT_EQ(encode(*decoded), out);
    }
}

// ---- every DecodingError from a hand-made input -------------------------------------------------

enum class Fn { kValidate, kItem, kHeader, kString, kList, kUint64, kUint256, kFixed32 };

std::string_view fn_name(Fn f) {
    switch (f) {
        case Fn::kValidate:
            return "validate";
        case Fn::kItem:
            return "decode_item";
        case Fn::kHeader:
            return "decode_header";
        case Fn::kString:
            return "decode_string";
        case Fn::kList:
            return "decode_list";
        case Fn::kUint64:
            return "decode_uint64";
        case Fn::kUint256:
            return "decode_uint256";
        case Fn::kFixed32:
            return "decode_fixed<32>";
    }
    return "?";
}

// Runs `f` on `in` and returns its error, or nullopt on success.
std::optional<DecodingError> run(Fn f, ByteView in) {
    auto err = [](const auto& r) -> std::optional<DecodingError> {
        if (r) return std::nullopt;
        return r.error();
    };
    ByteView from = in;
    uint8_t buf[32];
    switch (f) {
        case Fn::kValidate:
            return err(validate(in));
        case Fn::kItem:
            return err(decode_item(in));
        case Fn::kHeader:
            return err(decode_header(from));
        case Fn::kString:
            return err(decode_string(from));
        case Fn::kList:
            return err(decode_list(from));
        case Fn::kUint64:
            return err(decode_uint64(from));
        case Fn::kUint256:
            return err(decode_uint256(from));
        case Fn::kFixed32:
            return err(decode_fixed(from, buf, sizeof buf));
    }
    return std::nullopt;
}

Bytes nested_lists(std::size_t depth) {
    Bytes b = "c0"_hex;  // the innermost list is empty
    for (std::size_t i = 1; i < depth; ++i) {
        Bytes outer;
        encode_header(outer, {true, b.size()});
        b = outer + b;
    }
    return b;
}

TEST(RlpDecode, ErrorTable) {
    struct Case {
        Fn fn;
        Bytes in;
        DecodingError expected;
    };
    const Bytes b32 = Bytes(32, 0xff);
    const std::vector<Case> cases = {
        // kInputTooShort: empty input, a header with nothing after it, a payload cut short.
        {Fn::kHeader, ""_hex, DecodingError::kInputTooShort},
        {Fn::kValidate, ""_hex, DecodingError::kInputTooShort},
        {Fn::kItem, ""_hex, DecodingError::kInputTooShort},
        {Fn::kString, "81"_hex, DecodingError::kInputTooShort},
        {Fn::kString, "83646f"_hex, DecodingError::kInputTooShort},
        {Fn::kString, "b8"_hex, DecodingError::kInputTooShort},
        {Fn::kString, "b9ff"_hex, DecodingError::kInputTooShort},
        {Fn::kString, "b838"_hex, DecodingError::kInputTooShort},
        {Fn::kList, "c1"_hex, DecodingError::kInputTooShort},
        {Fn::kList, "f8"_hex, DecodingError::kInputTooShort},
        {Fn::kList, "f838c0"_hex, DecodingError::kInputTooShort},
        {Fn::kUint64, "82ff"_hex, DecodingError::kInputTooShort},
        {Fn::kValidate, "c2c2c0"_hex, DecodingError::kInputTooShort},  // a child runs past its list
        {Fn::kItem, "c2c2c0"_hex, DecodingError::kInputTooShort},
        {Fn::kValidate, "bf0f000000000000021111"_hex, DecodingError::kInputTooShort},  // huge length
        {Fn::kValidate, "ffffffffffffffffff0001020304050607"_hex, DecodingError::kInputTooShort},
        // kInputTooLong: bytes after the one item.
        {Fn::kValidate, "0102"_hex, DecodingError::kInputTooLong},
        {Fn::kItem, "0102"_hex, DecodingError::kInputTooLong},
        {Fn::kValidate, "c000"_hex, DecodingError::kInputTooLong},
        {Fn::kItem, "c000"_hex, DecodingError::kInputTooLong},
        {Fn::kItem, "8180ff"_hex, DecodingError::kInputTooLong},
        // kLeadingZero: in a length-of-length, or in an integer.
        {Fn::kHeader, "b800"_hex, DecodingError::kLeadingZero},
        {Fn::kHeader, "f800"_hex, DecodingError::kLeadingZero},
        {Fn::kValidate, "b9004000"_hex, DecodingError::kLeadingZero},
        {Fn::kItem, "fb00000040"_hex, DecodingError::kLeadingZero},
        {Fn::kUint64, "00"_hex, DecodingError::kLeadingZero},
        {Fn::kUint64, "820001"_hex, DecodingError::kLeadingZero},
        {Fn::kUint256, "00"_hex, DecodingError::kLeadingZero},
        {Fn::kUint256, "a000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"_hex,
         DecodingError::kLeadingZero},
        // kNonCanonicalSize: the long form for a payload below 56 bytes.
        {Fn::kHeader, "b801ff"_hex, DecodingError::kNonCanonicalSize},
        {Fn::kString, "b837"_hex + Bytes(55, 0x61), DecodingError::kNonCanonicalSize},
        {Fn::kList, "f803112233"_hex, DecodingError::kNonCanonicalSize},
        {Fn::kItem, "c4f80180c0"_hex, DecodingError::kNonCanonicalSize},  // inside a list
        // kNonCanonicalSingleByte: one byte below 0x80 wrapped as a string.
        {Fn::kHeader, "8100"_hex, DecodingError::kNonCanonicalSingleByte},
        {Fn::kString, "817f"_hex, DecodingError::kNonCanonicalSingleByte},
        {Fn::kUint64, "8101"_hex, DecodingError::kNonCanonicalSingleByte},
        {Fn::kItem, "c28100"_hex, DecodingError::kNonCanonicalSingleByte},
        // kOverflow: an integer too wide for its type.
        {Fn::kUint64, "89010000000000000000"_hex, DecodingError::kOverflow},
        {Fn::kUint256, "a1010000000000000000000000000000000000000000000000000000000000000000"_hex,
         DecodingError::kOverflow},
        // kUnexpectedList / kUnexpectedString: the wrong kind of item.
        {Fn::kString, "c0"_hex, DecodingError::kUnexpectedList},
        {Fn::kUint64, "c180"_hex, DecodingError::kUnexpectedList},
        {Fn::kUint256, "c0"_hex, DecodingError::kUnexpectedList},
        {Fn::kFixed32, "e0"_hex + b32, DecodingError::kUnexpectedList},
        {Fn::kList, "80"_hex, DecodingError::kUnexpectedString},
        {Fn::kList, "01"_hex, DecodingError::kUnexpectedString},
        // kUnexpectedLength: a fixed-size string of another size.
        {Fn::kFixed32, "80"_hex, DecodingError::kUnexpectedLength},
        {Fn::kFixed32, "9f"_hex + Bytes(31, 0xff), DecodingError::kUnexpectedLength},
        {Fn::kFixed32, "a1"_hex + Bytes(33, 0xff), DecodingError::kUnexpectedLength},
        // kTooDeep: more than kMaxDepth nested lists.
        {Fn::kValidate, nested_lists(kMaxDepth + 1), DecodingError::kTooDeep},
        {Fn::kItem, nested_lists(kMaxDepth + 1), DecodingError::kTooDeep},
        {Fn::kItem, nested_lists(1000), DecodingError::kTooDeep},
        // kUnexpectedListElements is raised by typed decoders (state::decode_account, trie nodes);
        // it is tested beside them.
    };
    std::set<DecodingError> seen;
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string{fn_name(c.fn)} + "(" + to_hex(c.in) + ")");
        const auto got = run(c.fn, c.in);
        ASSERT_TRUE(got.has_value()) << "accepted";
        EXPECT_EQ(*got, c.expected) << "got: " << to_string(*got) << ", expected: " << to_string(c.expected);
        seen.insert(c.expected);
    }
    EXPECT_EQ(seen.size(), 10u);  // every error but kUnexpectedListElements
}

TEST(RlpDecode, ErrorNamesAreDistinct) {
    std::set<std::string_view> names;
    for (int e = static_cast<int>(DecodingError::kInputTooShort); e <= static_cast<int>(DecodingError::kTooDeep); ++e) {
        const auto name = to_string(static_cast<DecodingError>(e));
        EXPECT_FALSE(name.empty());
        EXPECT_NE(name, "unknown RLP error");
        names.insert(name);
    }
    EXPECT_EQ(names.size(), 11u);
}

TEST(RlpDecode, DepthLimit) {
    const Bytes ok = nested_lists(kMaxDepth);
    EXPECT_TRUE(validate(ok));
    auto item = decode_item(ok);
    ASSERT_TRUE(item);
    EXPECT_EQ(encode(*item), ok);
}

// ---- truncation and mutation sweeps -------------------------------------------------------------

// Valid encodings: every rlptest.json output plus a few hand-made ones.
std::vector<Bytes> valid_encodings() {
    std::vector<Bytes> out;
    const json tests = load_json("ethereum-tests/RLPTests/rlptest.json");
    for (const auto& [name, test] : tests.items()) {
        out.push_back(hex_or_fail(test.at("out").get<std::string>()));
    }
    out.push_back("c7c0c1c0c3c0c1c0"_hex);
    out.push_back(nested_lists(kMaxDepth));
    Bytes long_list;
    encode_header(long_list, {true, 70000});
    for (int i = 0; i < 10000; ++i) long_list += "86616263646566"_hex;
    out.push_back(long_list);
    return out;
}

// A heap copy of exactly `n` bytes, so that AddressSanitizer sees any read past the end.
std::vector<uint8_t> exact_copy(ByteView b, std::size_t n) {
    return {b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n)};
}

TEST(RlpDecode, EveryTruncationFails) {
    std::size_t checked = 0;
    for (const Bytes& enc : valid_encodings()) {
        ASSERT_TRUE(validate(enc)) << to_hex(enc);
        for (std::size_t n = 0; n < enc.size(); ++n) {
            // Long inputs: every cut near the ends, a sample in between (copies would be quadratic).
            if (enc.size() > 4096 && n > 64 && n + 64 < enc.size() && n % 61 != 0) continue;
            const auto copy = exact_copy(enc, n);
            const ByteView prefix{copy.data(), copy.size()};
            const auto v = validate(prefix);
            ASSERT_FALSE(v) << "accepted " << n << " bytes of " << to_hex(enc);
            EXPECT_EQ(v.error(), DecodingError::kInputTooShort);
            const auto item = decode_item(prefix);
            ASSERT_FALSE(item);
            EXPECT_EQ(item.error(), DecodingError::kInputTooShort);
            ByteView from = prefix;
            EXPECT_FALSE(enc[0] >= 0xc0 ? decode_list(from).has_value() : decode_string(from).has_value());
            ++checked;
        }
    }
    EXPECT_GT(checked, 3000u);
}

// Strictness means one encoding per value: whatever decodes must re-encode to the same bytes.
void expect_consistent(ByteView in) {
    const auto copy = exact_copy(in, in.size());
    const ByteView exact{copy.data(), copy.size()};
    const auto item = decode_item(exact);
    EXPECT_EQ(item.has_value(), validate(exact).has_value()) << to_hex(in);
    if (item) {
        EXPECT_EQ(to_hex(encode(*item)), to_hex(in));
    }
}

TEST(RlpDecode, MutatedInputsDecodeCanonicallyOrFail) {
    for (const Bytes& enc : valid_encodings()) {
        if (enc.size() > 2000) continue;  // the long list adds time, not coverage
        for (std::size_t i = 0; i < enc.size(); ++i) {
            for (uint8_t m : {uint8_t{0x00}, uint8_t{0x01}, uint8_t{0x7f}, uint8_t{0x80}, uint8_t{0xb7}, uint8_t{0xb8},
                              uint8_t{0xc0}, uint8_t{0xf7}, uint8_t{0xf8}, uint8_t{0xff}}) {
                Bytes mutated = enc;
                mutated[i] = m;
                expect_consistent(mutated);
            }
            Bytes dropped = enc;
            dropped.erase(i, 1);
            expect_consistent(dropped);
            Bytes extra = enc;
            extra.insert(i, 1, 0x00);
            expect_consistent(extra);
        }
    }
}

TEST(RlpDecode, RandomInputsDecodeCanonicallyOrFail) {
    std::mt19937_64 rng{20260101};
    // Bias towards header bytes so that some inputs are valid.
    const uint8_t alphabet[] = {0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0xb7, 0xb8,
                                0xb9, 0xc0, 0xc1, 0xc2, 0xc3, 0xf7, 0xf8};
    std::size_t valid = 0;
    for (int iter = 0; iter < 200000; ++iter) {
        Bytes in(rng() % 12, 0);
        for (auto& b : in) b = rng() % 2 ? alphabet[rng() % sizeof alphabet] : static_cast<uint8_t>(rng());
        expect_consistent(in);
        if (validate(in)) ++valid;
    }
    EXPECT_GT(valid, 1000u);
}

// ---- integers -----------------------------------------------------------------------------------

TEST(RlpDecode, Uint64) {
    struct Case {
        Bytes in;
        uint64_t value;
    };
    for (const Case& c : std::vector<Case>{{"80"_hex, 0},
                                           {"01"_hex, 1},
                                           {"7f"_hex, 127},
                                           {"8180"_hex, 128},
                                           {"8203e8"_hex, 1000},
                                           {"88ffffffffffffffff"_hex, UINT64_MAX},
                                           {"880100000000000000"_hex, uint64_t{1} << 56}}) {
        ByteView from = c.in;
        auto v = decode_uint64(from);
        ASSERT_TRUE(v) << to_hex(c.in);
        EXPECT_EQ(*v, c.value);
        EXPECT_TRUE(from.empty());
        Bytes enc;
        encode(enc, c.value);
        EXPECT_EQ(enc, c.in);
        EXPECT_EQ(length(c.value), c.in.size());
    }
    // Consumes exactly one item and leaves the rest.
    const Bytes two = "8203e805"_hex;
    ByteView from = two;
    EXPECT_EQ(decode_uint64(from).value(), 1000u);
    EXPECT_EQ(decode_uint64(from).value(), 5u);
    EXPECT_TRUE(from.empty());
    // A failed decode of a well-formed string still reports the integer's problem.
    const Bytes wide = "8900ffffffffffffffff"_hex;
    from = wide;
    EXPECT_EQ(decode_uint64(from).error(), DecodingError::kLeadingZero);
}

TEST(RlpDecode, Uint256) {
    const Bytes max = "a0"_hex + Bytes(32, 0xff);
    ByteView from = max;
    auto v = decode_uint256(from);
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, Bytes(32, 0xff));
    EXPECT_TRUE(from.empty());

    const Bytes zero = "80"_hex;
    from = zero;
    EXPECT_TRUE(decode_uint256(from).value().empty());

    const Bytes small = "05"_hex;
    from = small;
    EXPECT_EQ(decode_uint256(from).value(), "05"_hex);

    // 2^256 needs 33 bytes (rlptest.json "bigint"); it decodes as a string but not as a uint256.
    const Bytes two_256 = "a1010000000000000000000000000000000000000000000000000000000000000000"_hex;
    from = two_256;
    EXPECT_EQ(decode_uint256(from).error(), DecodingError::kOverflow);
    from = two_256;
    EXPECT_TRUE(decode_string(from));

    Bytes enc;
    encode_uint_be(enc, "0000000000ff"_hex);
    EXPECT_EQ(enc, "81ff"_hex);
    enc.clear();
    encode_uint_be(enc, "000000"_hex);
    EXPECT_EQ(enc, "80"_hex);
    enc.clear();
    encode_uint_be(enc, "0005"_hex);
    EXPECT_EQ(enc, "05"_hex);
}

TEST(RlpDecode, FixedAndHeader) {
    const Bytes h = "a0"_hex + Bytes(32, 0xab);
    ByteView from = h;
    uint8_t out[32]{};
    ASSERT_TRUE(decode_fixed(from, out, sizeof out));
    EXPECT_EQ(ByteView(out, 32), Bytes(32, 0xab));
    EXPECT_TRUE(from.empty());

    // A single byte below 0x80 is its own payload: the header consumes nothing.
    const Bytes one = "2a"_hex;
    from = one;
    auto hdr = decode_header(from);
    ASSERT_TRUE(hdr);
    EXPECT_FALSE(hdr->list);
    EXPECT_EQ(hdr->payload_length, 1u);
    EXPECT_EQ(from.size(), 1u);

    // write_header agrees with encode_header and header_length at the short/long boundaries.
    for (std::size_t len : {0u, 1u, 55u, 56u, 255u, 256u, 65535u, 65536u, 16777216u}) {
        for (bool list : {false, true}) {
            uint8_t buf[9];
            const std::size_t n = write_header(buf, list, len);
            EXPECT_EQ(n, header_length(len));
            Bytes enc;
            encode_header(enc, {list, len});
            EXPECT_EQ(enc, Bytes(buf, n));
        }
    }
}

// ---- the item tree ------------------------------------------------------------------------------

TEST(RlpItem, EncodesNestedStructures) {
    const Item cat_dog = Item::make_list({Item::string(view("cat")), Item::string(view("dog"))});
    EXPECT_EQ(to_hex(encode(cat_dog)), "c88363617483646f67");
    const Item set_theory =
        Item::make_list({Item::make_list({}), Item::make_list({Item::make_list({})}),
                         Item::make_list({Item::make_list({}), Item::make_list({Item::make_list({})})})});
    EXPECT_EQ(to_hex(encode(set_theory)), "c7c0c1c0c3c0c1c0");
    EXPECT_EQ(to_hex(encode(Item::string("0f"_hex))), "0f");
    EXPECT_EQ(to_hex(encode(Item::string("0400"_hex))), "820400");
    EXPECT_EQ(to_hex(encode(Item::string({}))), "80");

    // A list payload of exactly 56 bytes takes the long form.
    const Item long_list = Item::make_list({Item::string(Bytes(55, 0x61))});
    const Bytes enc = encode(long_list);
    EXPECT_EQ(to_hex(enc.substr(0, 3)), "f838b7");
    EXPECT_EQ(decode_item(enc).value(), long_list);
}

}  // namespace
}  // namespace carousel::rlp
