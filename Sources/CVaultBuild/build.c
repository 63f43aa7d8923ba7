// The commit reaches the binary through a header that only scripts/release writes, into its own
// build folder, and puts on the include path (-Xcc -I): a plain `swift build` of a fresh clone,
// or of a source tree with no .git at all, compiles unchanged and says it is not a release
// build. A header rather than a -D flag: the flags stay the same from one commit to the next,
// so a new commit recompiles this file only, not every Swift module.
#include "CVaultBuild.h"

#if __has_include(<vault_release_commit.h>)
#include <vault_release_commit.h>
#endif

#ifndef VAULT_BUILD_COMMIT
#define VAULT_BUILD_COMMIT ""
#endif

const char *vault_build_commit(void) { return VAULT_BUILD_COMMIT; }
