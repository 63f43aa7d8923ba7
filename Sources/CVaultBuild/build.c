// The commit reaches the binary as a C macro rather than a generated Swift file, so a plain
// `swift build` of a fresh clone (or of a source tree with no .git at all) compiles unchanged:
// only scripts/release defines it, with -Xcc -DVAULT_BUILD_COMMIT="...", from `git rev-parse`.
#include "CVaultBuild.h"

#ifndef VAULT_BUILD_COMMIT
#define VAULT_BUILD_COMMIT ""
#endif

const char *vault_build_commit(void) { return VAULT_BUILD_COMMIT; }
