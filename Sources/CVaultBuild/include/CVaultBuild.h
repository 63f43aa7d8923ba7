#ifndef CVAULTBUILD_H
#define CVAULTBUILD_H

/// The git commit this binary was built from: the 40 hex digits scripts/release writes into
/// vault_release_commit.h (with "-dirty" appended for a test build of uncommitted changes), or ""
/// for any other build (a plain `swift build` needs neither git nor a tag).
const char *vault_build_commit(void);

#endif
