#pragma once
#include "core/config.hpp"

namespace sinter {
inline constexpr int version_major = SINTER_VERSION_MAJOR;
inline constexpr int version_minor = SINTER_VERSION_MINOR;
inline constexpr int version_patch = SINTER_VERSION_PATCH;
}  // namespace sinter
