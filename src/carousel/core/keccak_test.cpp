// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cryptopp/keccak.h>
#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>

#include "keccak_kernels.hpp"

#include <sys/mman.h>
#include <unistd.h>

namespace carousel {
namespace {

constexpr KeccakBackend kAllBackends[] = {KeccakBackend::kPortable, KeccakBackend::kAvx2, KeccakBackend::kAvx512};

// Digest from Crypto++'s Keccak_256 (the original Keccak padding, as Ethereum uses): an independent implementation.
Hash cryptopp_keccak256(ByteView data) {
    CryptoPP::Keccak_256 h;
    Hash out;
    h.CalculateDigest(out.data(), data.data(), data.size());
    return out;
}

Hash reference_keccak256(ByteView data) {
    Hash out;
    keccak_detail::reference_keccak256(data, out.data());
    return out;
}

// Fixed seeds, so that a failure reproduces.
std::mt19937_64 seeded_rng(uint64_t seed) { return std::mt19937_64(seed); }

Bytes random_bytes(std::mt19937_64& rng, std::size_t n) {
    Bytes b(n, 0);
    for (auto& c : b) c = static_cast<uint8_t>(rng());
    return b;
}

// Selects a backend for the lifetime of the object, then restores the one before.
class BackendScope {
  public:
    explicit BackendScope(KeccakBackend b) : previous_(keccak_backend()), ok_(set_keccak_backend(b)) {}
    ~BackendScope() { set_keccak_backend(previous_); }
    BackendScope(const BackendScope&) = delete;
    BackendScope& operator=(const BackendScope&) = delete;
    [[nodiscard]] bool ok() const { return ok_; }

  private:
    KeccakBackend previous_;
    bool ok_;
};

std::vector<KeccakBackend> supported_backends() {
    std::vector<KeccakBackend> out;
    out.reserve(std::size(kAllBackends));
    for (KeccakBackend b : kAllBackends) {
        if (keccak_backend_supported(b)) out.push_back(b);
    }
    return out;
}

// Hashes `msgs` with keccak256_batch into fresh digests.
std::vector<Hash> batch_hash(const std::vector<Bytes>& msgs) {
    std::vector<ByteView> in(msgs.begin(), msgs.end());
    std::vector<Hash> got(msgs.size());
    std::vector<uint8_t*> out;
    out.reserve(got.size());
    for (Hash& h : got) out.push_back(h.data());
    keccak256_batch(in, out);
    return got;
}

// Known digests: keccak256("") is Ethereum's empty code hash; the others from go-ethereum's crypto tests.
TEST(Keccak, KnownDigests) {
    for (KeccakBackend b : supported_backends()) {
        BackendScope scope(b);
        SCOPED_TRACE(std::string(to_string(b)));
        EXPECT_EQ(to_hex(keccak256(ByteView{})), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
        EXPECT_EQ(to_hex(keccak256(view("abc"))), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
        // The RLP of the empty string (0x80) hashes to the empty trie root.
        EXPECT_EQ(to_hex(keccak256("80"_hex)), "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
        // The same through the batch kernels, in one group.
        const std::vector<Hash> got = batch_hash({Bytes{}, to_bytes("abc"), "80"_hex});
        EXPECT_EQ(to_hex(got[0]), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
        EXPECT_EQ(to_hex(got[1]), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
        EXPECT_EQ(to_hex(got[2]), "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
    }
}

// The reference implementation (the oracle of the tests below) against Crypto++ around the 136-byte rate: every
// length 0..300 covers 1, 2 and 3 blocks and the pad byte at every offset, including 0x81 at byte 135.
TEST(Keccak, ReferenceMatchesCryptopp) {
    std::mt19937_64 rng = seeded_rng(1);
    for (std::size_t len = 0; len <= 300; ++len) {
        const Bytes msg = random_bytes(rng, len);
        ASSERT_EQ(to_hex(reference_keccak256(msg)), to_hex(cryptopp_keccak256(msg))) << "length " << len;
    }
}

TEST(Keccak, EveryBackendMatchesCryptoppSingle) {
    std::mt19937_64 rng = seeded_rng(2);
    std::vector<Bytes> msgs;
    for (std::size_t len = 0; len <= 300; ++len) msgs.push_back(random_bytes(rng, len));
    for (KeccakBackend b : supported_backends()) {
        BackendScope scope(b);
        for (const Bytes& msg : msgs) {
            ASSERT_EQ(to_hex(keccak256(msg)), to_hex(cryptopp_keccak256(msg)))
                << to_string(b) << ", length " << msg.size();
        }
    }
}

// Batches of every size 0..20 of messages of one length, for every length 0..300: uniform block counts.
TEST(Keccak, EveryBackendMatchesCryptoppBatchUniform) {
    std::mt19937_64 rng = seeded_rng(3);
    for (KeccakBackend b : supported_backends()) {
        BackendScope scope(b);
        for (std::size_t len = 0; len <= 300; ++len) {
            const std::size_t n = len % 21;
            std::vector<Bytes> msgs;
            for (std::size_t i = 0; i < n; ++i) msgs.push_back(random_bytes(rng, len));
            const std::vector<Hash> got = batch_hash(msgs);
            for (std::size_t i = 0; i < n; ++i) {
                ASSERT_EQ(to_hex(got[i]), to_hex(cryptopp_keccak256(msgs[i])))
                    << to_string(b) << ", length " << len << ", batch " << n << ", message " << i;
            }
        }
    }
}

// Random lengths 0..1000 (1 to 8 blocks) in batches of every size 0..20: lanes of one group finish after different
// blocks, and each digest must be the one written right after its message's last block.
TEST(Keccak, EveryBackendMatchesReferenceBatchMixed) {
    std::mt19937_64 rng = seeded_rng(4);
    for (KeccakBackend b : supported_backends()) {
        BackendScope scope(b);
        for (int round = 0; round < 10; ++round) {
            for (std::size_t n = 0; n <= 20; ++n) {
                std::vector<Bytes> msgs;
                for (std::size_t i = 0; i < n; ++i) msgs.push_back(random_bytes(rng, rng() % 1001));
                const std::vector<Hash> got = batch_hash(msgs);
                for (std::size_t i = 0; i < n; ++i) {
                    ASSERT_EQ(to_hex(got[i]), to_hex(reference_keccak256(msgs[i])))
                        << to_string(b) << ", batch " << n << ", message " << i << " of length " << msgs[i].size();
                    ASSERT_EQ(to_hex(keccak256(msgs[i])), to_hex(got[i])) << to_string(b);
                }
            }
        }
    }
}

// The kernels themselves with every lane count, including the ones the batch dispatcher never uses (a lone message),
// and outputs that are unaligned and packed next to each other with sentinels around them.
TEST(Keccak, MultiBufferKernelsEveryLaneCount) {
#if defined(__x86_64__)
    struct Kernel {
        const char* name;
        bool supported;
        std::size_t width;
        void (*fn)(const uint8_t* const*, const std::size_t*, uint8_t* const*, std::size_t) noexcept;
    };
    const Kernel kernels[] = {
        {"avx2x4", keccak_detail::cpu_has_x86_64_v3(), 4, keccak_detail::avx2_keccak256_x4},
        {"avx512x8", keccak_detail::cpu_has_x86_64_v4(), 8, keccak_detail::avx512_keccak256_x8},
    };
    std::mt19937_64 rng = seeded_rng(5);
    for (const Kernel& k : kernels) {
        if (!k.supported) continue;
        for (int round = 0; round < 50; ++round) {
            for (std::size_t n = 1; n <= k.width; ++n) {
                std::vector<Bytes> msgs;
                std::vector<const uint8_t*> data;
                std::vector<std::size_t> len;
                for (std::size_t i = 0; i < n; ++i) msgs.push_back(random_bytes(rng, rng() % 700));
                for (const Bytes& m : msgs) {
                    data.push_back(m.data());
                    len.push_back(m.size());
                }
                std::vector<uint8_t> buf(1 + 32 * n + 1, 0xa5);
                std::vector<uint8_t*> out;
                for (std::size_t i = 0; i < n; ++i) out.push_back(buf.data() + 1 + 32 * i);
                k.fn(data.data(), len.data(), out.data(), n);
                ASSERT_EQ(buf.front(), 0xa5) << k.name;
                ASSERT_EQ(buf.back(), 0xa5) << k.name;
                for (std::size_t i = 0; i < n; ++i) {
                    ASSERT_EQ(to_hex(ByteView{out[i], 32}), to_hex(reference_keccak256(msgs[i])))
                        << k.name << ", lanes " << n << ", message " << i << " of length " << msgs[i].size();
                }
            }
        }
    }
#else
    GTEST_SKIP() << "no SIMD kernels on this architecture";
#endif
}

// Messages that end exactly at a page followed by an inaccessible page: a kernel reading one byte past the end of
// its input crashes here. Also covers every alignment of the start and empty views at the end of the page.
TEST(Keccak, NeverReadsPastTheMessage) {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* mem = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    auto* bytes = static_cast<uint8_t*>(mem);
    ASSERT_EQ(mprotect(bytes + page, page, PROT_NONE), 0);
    std::mt19937_64 rng = seeded_rng(6);
    for (std::size_t i = 0; i < page; ++i) bytes[i] = static_cast<uint8_t>(rng());
    uint8_t* const end = bytes + page;
    for (KeccakBackend b : supported_backends()) {
        BackendScope scope(b);
        for (std::size_t len = 0; len <= 600; ++len) {
            const ByteView msg{end - len, len};
            const Hash expected = reference_keccak256(msg);
            ASSERT_EQ(to_hex(keccak256(msg)), to_hex(expected)) << to_string(b) << ", length " << len;
            // Eight lanes of different lengths all ending at the guard page, so every kernel sees them.
            std::vector<ByteView> in;
            std::vector<Hash> got(9);
            std::vector<uint8_t*> out;
            for (std::size_t i = 0; i < 9; ++i) {
                const std::size_t l = (len + 37 * i) % 601;
                in.emplace_back(end - l, l);
                out.push_back(got[i].data());
            }
            keccak256_batch(in, out);
            for (std::size_t i = 0; i < 9; ++i) {
                ASSERT_EQ(to_hex(got[i]), to_hex(reference_keccak256(in[i])))
                    << to_string(b) << ", length " << in[i].size();
            }
        }
    }
    munmap(mem, 2 * page);
}

TEST(Keccak, PermutationCounter) {
    for (KeccakBackend b : supported_backends()) {
        BackendScope scope(b);
        const uint64_t before = keccak_permutations();
        (void)keccak256(Bytes(135, 1));  // 1 block
        (void)keccak256(Bytes(136, 1));  // 2 blocks: the padding takes a block of its own
        EXPECT_EQ(keccak_permutations() - before, 3U) << to_string(b);
        // A batch counts every lane's own blocks, not the lock-step maximum of its group.
        const std::vector<Bytes> msgs = {Bytes{}, Bytes(300, 0), Bytes(32, 0), Bytes(136, 0), Bytes(532, 0)};
        const uint64_t mid = keccak_permutations();
        (void)batch_hash(msgs);
        EXPECT_EQ(keccak_permutations() - mid, 1U + 3U + 1U + 2U + 4U) << to_string(b);
    }
}

TEST(Keccak, BackendSelection) {
    EXPECT_TRUE(keccak_backend_supported(KeccakBackend::kPortable));
    // The default is the widest supported backend.
    KeccakBackend best = KeccakBackend::kPortable;
    for (KeccakBackend b : kAllBackends) {
        if (keccak_backend_supported(b)) best = b;
    }
    EXPECT_EQ(keccak_backend(), best);
    for (KeccakBackend b : kAllBackends) {
        BackendScope scope(b);
        EXPECT_EQ(scope.ok(), keccak_backend_supported(b));
        if (!scope.ok()) continue;
        EXPECT_EQ(keccak_backend(), b);
        const std::size_t width = b == KeccakBackend::kAvx512 ? 8 : b == KeccakBackend::kAvx2 ? 4 : 1;
        EXPECT_EQ(keccak_batch_width(), width);
    }
    EXPECT_EQ(keccak_backend(), best);
    EXPECT_EQ(to_string(KeccakBackend::kPortable), "portable");
    EXPECT_EQ(to_string(KeccakBackend::kAvx2), "avx2x4");
    EXPECT_EQ(to_string(KeccakBackend::kAvx512), "avx512x8");
}

}  // namespace
}  // namespace carousel
