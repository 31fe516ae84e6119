#pragma once
// A map of at most `capacity` entries that evicts the least recently used one: what a session keeps
// per launch shape (its CUDA graph), so that a server seeing ever new shapes holds bounded memory.
// Values are constructed in place and never moved (a CUDA graph handle owner need not be movable).
#include <cstddef>
#include <list>
#include <map>
#include <tuple>
#include <utility>

#include "error.hpp"

namespace sinter {

template <class Key, class Value>
class LruCache {
public:
    explicit LruCache(std::size_t capacity) : capacity_(capacity) {
        if (capacity == 0) throw value_error("LruCache: capacity must be at least 1");
    }
    LruCache(const LruCache&) = delete;
    LruCache& operator=(const LruCache&) = delete;

    // The entry of `key`, now the most recently used; default-constructed if absent, after
    // evicting the least recently used entry when full.
    Value& operator[](const Key& key) {
        if (auto it = index_.find(key); it != index_.end()) {
            entries_.splice(entries_.begin(), entries_, it->second);
            return it->second->second;
        }
        if (entries_.size() == capacity_) {
            index_.erase(entries_.back().first);
            entries_.pop_back();
        }
        entries_.emplace_front(std::piecewise_construct, std::forward_as_tuple(key), std::forward_as_tuple());
        index_.emplace(key, entries_.begin());
        return entries_.front().second;
    }

    // The entry of `key` without touching its recency; nullptr if absent.
    const Value* peek(const Key& key) const {
        const auto it = index_.find(key);
        return it == index_.end() ? nullptr : &it->second->second;
    }

    void erase(const Key& key) {
        if (const auto it = index_.find(key); it != index_.end()) {
            entries_.erase(it->second);
            index_.erase(it);
        }
    }

    std::size_t size() const { return entries_.size(); }
    std::size_t capacity() const { return capacity_; }

    // Entries from the most to the least recently used.
    auto begin() const { return entries_.begin(); }
    auto end() const { return entries_.end(); }

private:
    std::size_t capacity_;
    std::list<std::pair<const Key, Value>> entries_;
    std::map<Key, typename std::list<std::pair<const Key, Value>>::iterator> index_;
};

}  // namespace sinter
