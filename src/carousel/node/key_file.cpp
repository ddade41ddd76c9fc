// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "key_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>

#include <carousel/core/hex.hpp>

#include <fcntl.h>
#include <unistd.h>

namespace carousel::node {
namespace {

constexpr std::size_t kMaxKeyFileBytes = 256;

// A new key from std::random_device (getrandom(2) on Linux), retried in the rare case the 32 bytes
// are not a valid secret.
dht::KeyPair random_key() {
    std::random_device random;
    for (;;) {
        Bytes secret(32, 0);
        for (std::size_t i = 0; i < secret.size(); i += 4) {
            const uint32_t word = random();
            std::memcpy(secret.data() + i, &word, 4);
        }
        if (auto key = dht::KeyPair::from_secret(secret)) return *key;
    }
}

}  // namespace

tl::expected<dht::KeyPair, std::string> load_key(const std::filesystem::path& path) {
    std::ifstream in{path, std::ios::binary};
    if (!in) return tl::unexpected{path.string() + ": cannot read the key file"};
    std::string text(kMaxKeyFileBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxKeyFileBytes) return tl::unexpected{path.string() + ": not a key file (too long)"};
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    const auto secret = from_hex(text);
    if (!secret || secret->size() != 32) {
        return tl::unexpected{path.string() + ": not a key file (64 hex digits of a secp256k1 secret key)"};
    }
    auto key = dht::KeyPair::from_secret(*secret);
    if (!key) return tl::unexpected{path.string() + ": " + std::string{dht::to_string(key.error())}};
    return *key;
}

tl::expected<dht::KeyPair, std::string> load_or_create_key(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return load_key(path);
    const dht::KeyPair key = random_key();
    const std::string text = to_hex(view(key.secret)) + "\n";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return load_key(path);  // another process made it first
        return tl::unexpected{path.string() +
                              ": cannot create the key file: " + std::generic_category().message(errno)};
    }
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!written || !synced) {
        std::filesystem::remove(path, ec);
        return tl::unexpected{path.string() + ": cannot write the key file"};
    }
    return key;
}

}  // namespace carousel::node
