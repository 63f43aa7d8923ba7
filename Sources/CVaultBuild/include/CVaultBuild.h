#ifndef CVAULTBUILD_H
#define CVAULTBUILD_H

/// The git commit this binary was built from: the 40 hex digits scripts/release passes as
/// -DVAULT_BUILD_COMMIT (with "-dirty" appended for a release of uncommitted changes), or ""
/// for any other build (a plain `swift build` needs neither git nor a tag).
const char *vault_build_commit(void);

#endif
