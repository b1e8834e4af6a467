#!/usr/bin/env bash
# The header compiles without a warning as C99, C11, C++11, C++14, C++17
# and C++20 at -Wall -Wextra -pedantic -Werror, included twice.
#   tests/install/header.sh [INCLUDE_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
incdir=${1:-include}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/tu.c" <<'C'
#include "voucherify.h"
#include "voucherify.h" /* twice: the include guard must hold */
/* Uses every type and a few declarations, so they are not just skipped. */
int check(void);
int check(void)
{
    vf_status status = VF_STATUS_OK;
    vf_config *config = NULL;
    vf_client *client = NULL;
    vf_error *err = NULL;
    vf_token *token = NULL;
    vf_token_source *source = NULL;
    const char *(*version)(void) = vf_version;
    (void)config; (void)client; (void)err; (void)token; (void)source;
    int sum = status; /* no casts: C++ builds use -Wold-style-cast */
    return sum + (sizeof VF_VERSION > 1) + VF_VERSION_MAJOR + VF_VERSION_MINOR
        + VF_VERSION_PATCH + (version != NULL);
}
C
cp "$tmp/tu.c" "$tmp/tu.cpp"
flags=(-Wall -Wextra -pedantic -Werror -I"$incdir" -c)
n=0
for std in c99 c11; do
  ${CC:-cc} -std="$std" "${flags[@]}" -Wstrict-prototypes -Wmissing-prototypes "$tmp/tu.c" -o "$tmp/tu.o"
  n=$((n + 1))
done
for std in c++11 c++14 c++17 c++20; do
  ${CXX:-c++} -std="$std" "${flags[@]}" -Wold-style-cast "$tmp/tu.cpp" -o "$tmp/tu.o"
  n=$((n + 1))
done
echo "header: $incdir/voucherify.h compiles cleanly, included twice, as C99 C11 C++11 C++14 C++17 C++20 ($n builds)"
