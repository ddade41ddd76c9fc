// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "node_key.hpp"

#include <algorithm>

#include <carousel/core/keccak.hpp>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

namespace carousel::dht {
namespace {

// One context for every call: secp256k1 contexts are safe to share once created.
const secp256k1_context* context() {
    static secp256k1_context* const kContext = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    return kContext;
}

Hash id_of(const secp256k1_pubkey& key) {
    std::array<uint8_t, 65> full{};
    std::size_t n = full.size();
    secp256k1_ec_pubkey_serialize(context(), full.data(), &n, &key, SECP256K1_EC_UNCOMPRESSED);
    return keccak256(ByteView{full.data() + 1, 64});
}

PublicKey compressed(const secp256k1_pubkey& key) {
    PublicKey out{};
    std::size_t n = out.size();
    secp256k1_ec_pubkey_serialize(context(), out.data(), &n, &key, SECP256K1_EC_COMPRESSED);
    return out;
}

std::optional<secp256k1_pubkey> parse(ByteView public_key) {
    secp256k1_pubkey pub;
    if (public_key.size() != 33 ||
        secp256k1_ec_pubkey_parse(context(), &pub, public_key.data(), public_key.size()) != 1) {
        return std::nullopt;
    }
    return pub;
}

}  // namespace

std::string_view to_string(KeyError e) noexcept {
    switch (e) {
        case KeyError::kBadSecretKey:
            return "secret key out of range";
    }
    return "unknown key error";
}

tl::expected<KeyPair, KeyError> KeyPair::from_secret(ByteView secret) {
    KeyPair k;
    if (secret.size() != k.secret.size()) return tl::unexpected{KeyError::kBadSecretKey};
    std::copy(secret.begin(), secret.end(), k.secret.begin());
    secp256k1_pubkey pub;
    if (secp256k1_ec_seckey_verify(context(), k.secret.data()) != 1 ||
        secp256k1_ec_pubkey_create(context(), &pub, k.secret.data()) != 1) {
        return tl::unexpected{KeyError::kBadSecretKey};
    }
    k.public_key = compressed(pub);
    k.node_id = id_of(pub);
    return k;
}

std::optional<Hash> node_id_of(ByteView public_key) {
    const auto pub = parse(public_key);
    if (!pub) return std::nullopt;
    return id_of(*pub);
}

Signature sign(const KeyPair& key, const Hash& digest) {
    // A KeyPair's secret was checked by from_secret, so signing cannot fail.
    secp256k1_ecdsa_signature sig;
    secp256k1_ecdsa_sign(context(), &sig, digest.data(), key.secret.data(), nullptr, nullptr);
    Signature out{};
    secp256k1_ecdsa_signature_serialize_compact(context(), out.data(), &sig);
    return out;
}

bool verify(ByteView public_key, const Hash& digest, ByteView signature) {
    const auto pub = parse(public_key);
    secp256k1_ecdsa_signature sig;
    if (!pub || signature.size() != 64 ||
        secp256k1_ecdsa_signature_parse_compact(context(), &sig, signature.data()) != 1) {
        return false;
    }
    // secp256k1_ecdsa_verify refuses a high-S signature.
    return secp256k1_ecdsa_verify(context(), &sig, digest.data(), &*pub) == 1;
}

RecoverableSignature sign_recoverable(const KeyPair& key, const Hash& digest) {
    secp256k1_ecdsa_recoverable_signature sig;
    secp256k1_ecdsa_sign_recoverable(context(), &sig, digest.data(), key.secret.data(), nullptr, nullptr);
    RecoverableSignature out{};
    int recovery_id = 0;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(context(), out.data(), &recovery_id, &sig);
    out[64] = static_cast<uint8_t>(recovery_id);
    return out;
}

std::optional<PublicKey> recover(const Hash& digest, ByteView signature) {
    secp256k1_ecdsa_recoverable_signature sig;
    if (signature.size() != 65 || signature[64] > 3 ||
        secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &sig, signature.data(), signature[64]) != 1) {
        return std::nullopt;
    }
    // Low S only, as verify(): a malleated signature is not a second valid one.
    secp256k1_ecdsa_signature plain;
    secp256k1_ecdsa_recoverable_signature_convert(context(), &plain, &sig);
    if (secp256k1_ecdsa_signature_normalize(context(), nullptr, &plain) == 1) return std::nullopt;
    secp256k1_pubkey pub;
    if (secp256k1_ecdsa_recover(context(), &pub, &sig, digest.data()) != 1) return std::nullopt;
    return compressed(pub);
}

}  // namespace carousel::dht
