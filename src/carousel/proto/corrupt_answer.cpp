// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "corrupt_answer.hpp"

#include "mgr_messages.hpp"
#include "prefix_messages.hpp"

namespace carousel::proto {

void corrupt_answer(Bytes& frame) {
    if (frame.empty()) return;
    if (frame[0] == static_cast<uint8_t>(MessageType::kChunkData)) {
        auto data = decode_chunk_data(frame);
        if (!data) return;
        for (auto& e : data->entries) {
            if (!e.values.empty()) e.values[e.values.size() / 2].back() ^= 0x01;
            if (!e.nodes.empty()) e.nodes.back().back() ^= 0x01;
        }
        frame = encode(*data);
    } else if (frame[0] == static_cast<uint8_t>(MessageType::kDiffData)) {
        auto data = decode_diff_data(frame);
        if (!data || data->error) return;
        if (!data->keys.empty()) {
            data->keys.pop_back();
            data->values.pop_back();
        } else {
            Hash fake{};
            fake.fill(0x5a);
            data->keys.push_back(fake);
            data->values.push_back(Bytes{0x01});
        }
        frame = encode(*data);
    } else if (frame[0] == static_cast<uint8_t>(MessageType::kBareStorage)) {
        // Bare leaves: one value altered, and one owner's part left out.
        auto data = decode_bare_storage(frame);
        if (!data || data->error) return;
        for (auto& e : data->entries) {
            if (!e.values.empty()) {
                e.values[e.values.size() / 2].back() ^= 0x01;
                break;
            }
        }
        if (data->entries.size() > 1) data->entries.pop_back();
        frame = encode(*data);
    } else if (frame[0] == static_cast<uint8_t>(MessageType::kItems)) {
        // Gossip items: one byte of each altered.
        auto data = decode_items(frame);
        if (!data || data->error) return;
        for (auto& item : data->items) item[item.size() / 2] ^= 0x01;
        frame = encode(*data);
    } else if (frame[0] == static_cast<uint8_t>(MessageType::kCodeData)) {
        auto data = decode_code_data(frame);
        if (!data) return;
        for (auto& c : data->codes) {
            if (!c.empty()) c.back() ^= 0x01;
        }
        frame = encode(*data);
    }
}

}  // namespace carousel::proto
