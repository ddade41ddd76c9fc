// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Node ids, content positions and XOR distance (Kademlia), and the radius that decides what a node
// covers.
//
// Ids and positions are 256-bit numbers, stored big-endian in 32 bytes (a `Hash`), so they order
// and compare like trie keys. A node with id N and radius 2^j - 1 covers the aligned block
// { k : k >> j == N >> j }: the keys that share N's first 256 - j bits, one prefix sub-trie.

#include <cstdint>

#include <carousel/core/bytes.hpp>

namespace carousel::dht {

using NodeId = Hash;

// a XOR b.
NodeId xor_distance(const NodeId& a, const NodeId& b) noexcept;

// The Kademlia log distance: 0 when a == b, else 256 minus the number of leading bits a and b share
// (1..256). The routing table keeps one bucket per log distance.
unsigned log_distance(const NodeId& a, const NodeId& b) noexcept;

// Whether `a` is strictly closer to `target` than `b` under XOR distance.
bool closer(const NodeId& target, const NodeId& a, const NodeId& b) noexcept;

// A radius of 2^bits - 1 (bits in 0..256): the node covers the 2^bits keys that share its first
// 256 - bits bits.
struct Radius {
    unsigned bits{0};
    friend bool operator==(const Radius&, const Radius&) = default;
};

// Whether a node with this id and radius covers `key`.
bool covers(const NodeId& id, Radius radius, const Hash& key) noexcept;

// The first and last key of the block a node with this id and radius covers.
Hash region_first(const NodeId& id, Radius radius) noexcept;
Hash last_key(const NodeId& id, Radius radius) noexcept;

}  // namespace carousel::dht
