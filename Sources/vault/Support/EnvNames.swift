/// The variable names of `vault export --format env` (CLI.md). A generic entry's field names come
/// from the sender, and the documented use is `eval "$(vault export --format env LABEL)"`, so a
/// name is the sender's choice of which variable to set in the integrator's shell. 0.1.0 wrote
/// the bare upper-cased name: a sealed `ps4` set PS4 and ran a command under `set -x`, `path`
/// replaced PATH. Now every name is a prefix the integrator chose (default `VAULT_`) followed by
/// the field name, and a name that something the shell runs would act on is refused outright.
enum EnvNames {
    /// The prefix when `--prefix` is not given.
    static let defaultPrefix = "VAULT_"

    /// The prefix rule of CLI.md: `[A-Z][A-Z0-9_]*_`. It ends in `_`, so a name is never a bare
    /// field name: PATH, IFS, PS4, ENV and every other name without `_` cannot be produced at
    /// all; the lists below still name them, so that they stay right if the rule ever changes.
    static func prefixRule(_ prefix: String) -> String? {
        let b = Array(prefix.utf8)
        guard let first = b.first, (0x41...0x5a).contains(first), b.last == UInt8(ascii: "_"),
              b.allSatisfy({ (0x41...0x5a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f }) else {
            return "must be upper-case letters, digits and _, start with a letter and end with _ (e.g. ACME_)"
        }
        return nil
    }

    /// Families of names a program acts on as a whole: any name starting so is refused, and so is
    /// a prefix starting so (a usage mistake: every name it makes would be refused).
    static let families: [(prefix: String, actor: String)] = [
        // Every ELF loader (glibc, musl): LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT load code.
        ("LD_", "the dynamic loader"),
        // macOS dyld: DYLD_INSERT_LIBRARIES loads code.
        ("DYLD_", "the dynamic loader"),
        // bash: BASH_ENV runs a file, BASH_FUNC_name%% imports a function, BASH_XTRACEFD,
        // BASH_COMPAT and BASH_LOADABLES_PATH change the shell.
        ("BASH_", "bash"),
        // glibc's malloc: MALLOC_TRACE writes a file, MALLOC_CHECK_/PERTURB_ change behaviour.
        ("MALLOC_", "the C library"),
        // GLIBC_TUNABLES (parsed by the loader; CVE-2023-4911 was a root exploit through it).
        ("GLIBC_", "the C library"),
        // Locale: LC_ALL, LC_CTYPE, LC_COLLATE change how the shell splits characters and
        // matches globs; a locale name is also a path the C library loads.
        ("LC_", "the C library and every shell"),
        // git: GIT_SSH_COMMAND, GIT_EXTERNAL_DIFF, GIT_PAGER run commands; GIT_CONFIG_COUNT /
        // _KEY_n / _VALUE_n set any configuration (core.sshCommand, core.fsmonitor).
        ("GIT_", "git"),
        // Lua: LUA_INIT and LUA_INIT_5_4 run code at start-up; LUA_PATH, LUA_CPATH load it.
        ("LUA_", "Lua"),
        // XDG base directories: XDG_DATA_HOME moves vault's own keystore; XDG_CONFIG_HOME moves
        // the configuration of git, ssh helpers and most desktop tools.
        ("XDG_", "vault and many programs"),
    ]

    /// Single names, each with what acts on it. Chosen: a variable a POSIX shell (bash, dash,
    /// zsh, ksh) reads to decide what to run, where to look, how to split or what to print; one
    /// the dynamic loader or the C library treats as unsafe for set-uid programs (glibc's
    /// unsecvars.h list); one an interpreter or a common tool reads to load or run code, or to
    /// choose where it connects and whom it trusts (the receiving system talks HTTPS with these
    /// very credentials); and vault's own. Left out: names only read for display (COLUMNS,
    /// LINES), counters the shell sets itself (RANDOM, SECONDS, LINENO), and tokens of other
    /// systems, which replace the caller's identity with one the sender already holds and do not
    /// redirect anything (so a generic field `token` still exports as VAULT_TOKEN).
    static let names: [String: String] = {
        var m: [String: String] = [:]
        func add(_ actor: String, _ list: [String]) { for n in list { m[n] = actor } }
        // POSIX sh, dash, bash, ksh, zsh.
        add("the shell", [
            "PATH", "IFS", "ENV", "CDPATH", "HOME", "PWD", "OLDPWD", "SHELL", "SHLVL", "TERM", "TMOUT",
            "PS0", "PS1", "PS2", "PS3", "PS4", "PROMPT_COMMAND", "PROMPT_DIRTRIM", "PROMPT", "PROMPT2", "PROMPT3",
            "PROMPT4", "RPROMPT", "RPROMPT2", "RPS1", "RPS2", "SPROMPT", "PROMPT_EOL_MARK", "POSTEDIT",
            "SHELLOPTS", "BASHOPTS", "POSIXLY_CORRECT", "GLOBIGNORE", "GLOBSORT", "EXECIGNORE", "FIGNORE", "FUNCNEST",
            "HISTFILE", "HISTFILESIZE", "HISTSIZE", "HISTCONTROL", "HISTIGNORE", "HISTTIMEFORMAT", "HISTCMD", "HISTEDIT",
            "SAVEHIST", "HOSTFILE", "INPUTRC", "IGNOREEOF", "MAIL", "MAILCHECK", "MAILPATH", "OPTIND", "OPTARG",
            "OPTERR", "TIMEFORMAT", "TIMEFMT", "COMP_WORDBREAKS", "INSIDE_EMACS", "EMACS", "FCEDIT",
            "FPATH", "ZDOTDIR", "MODULE_PATH", "MANPATH", "NULLCMD", "READNULLCMD", "TMPPREFIX", "STTY",
            "WORDCHARS", "KEYTIMEOUT", "WATCH", "WATCHFMT", "LOGCHECK", "PERIOD", "REPORTTIME", "REPORTMEMORY",
            "LANG", "LANGUAGE", "TERMINFO", "TERMINFO_DIRS", "TERMCAP", "TZ", "TMPDIR", "CHILD_MAX",
        ])
        // glibc's loader and C library: the names it clears for set-uid programs (LD_*, MALLOC_*
        // and GLIBC_TUNABLES are families above).
        add("the C library", [
            "GCONV_PATH", "GETCONF_DIR", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "NIS_PATH", "NLSPATH",
            "RESOLV_HOST_CONF", "RES_OPTIONS", "TZDIR", "LIBC_FATAL_STDERR_",
        ])
        add("TLS libraries and HTTP clients", [
            "OPENSSL_CONF", "OPENSSL_ENGINES", "OPENSSL_MODULES", "SSL_CERT_FILE", "SSL_CERT_DIR",
            "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "GNUTLS_SYSTEM_PRIORITY_FILE", "HTTP_PROXY", "HTTPS_PROXY",
            "ALL_PROXY", "NO_PROXY", "FTP_PROXY", "CURL_HOME", "NETRC", "WGETRC",
        ])
        add("an interpreter", [
            "PERL5OPT", "PERL5LIB", "PERLLIB", "PERL5DB", "PERL_MB_OPT", "PERL_MM_OPT",
            "PYTHONSTARTUP", "PYTHONPATH", "PYTHONHOME", "PYTHONINSPECT", "PYTHONWARNINGS", "PYTHONBREAKPOINT",
            "PYTHONUSERBASE", "PYTHONEXECUTABLE", "PYTHONPLATLIBDIR", "PYTHONSAFEPATH",
            "RUBYOPT", "RUBYLIB", "GEM_HOME", "GEM_PATH", "BUNDLE_GEMFILE",
            "NODE_OPTIONS", "NODE_PATH", "NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED",
            "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH", "PHPRC", "PHP_INI_SCAN_DIR", "TCLLIBPATH",
            "DOTNET_STARTUP_HOOKS", "CORECLR_PROFILER_PATH", "CORECLR_ENABLE_PROFILING",
        ])
        add("a tool that runs it as a command", [
            "EDITOR", "VISUAL", "PAGER", "MANPAGER", "LESSOPEN", "LESSCLOSE", "BROWSER", "SSH_ASKPASS",
            "SSH_ASKPASS_REQUIRE", "SUDO_ASKPASS", "SSH_AUTH_SOCK", "SYSTEMD_PAGER", "SYSTEMD_EDITOR",
        ])
        // vault's own: a sender's `keystore` field would point later vault commands in the same
        // shell at a keystore and key file of their choosing.
        add("vault", ["VAULT_KEYSTORE", "VAULT_KEY_FILE", "VAULT_PASSPHRASE_FILE"])
        // The default prefix is also HashiCorp Vault's: these choose where its clients (and
        // Terraform's provider) send the caller's token, and whom they trust.
        add("HashiCorp Vault clients", [
            "VAULT_ADDR", "VAULT_AGENT_ADDR", "VAULT_PROXY_ADDR", "VAULT_HTTP_PROXY", "VAULT_CACERT",
            "VAULT_CACERT_BYTES", "VAULT_CAPATH", "VAULT_CLIENT_CERT", "VAULT_CLIENT_KEY", "VAULT_SKIP_VERIFY",
            "VAULT_TLS_SERVER_NAME", "VAULT_NAMESPACE", "VAULT_SRV_LOOKUP", "VAULT_DISABLE_REDIRECTS",
        ])
        return m
    }()

    /// The family a prefix starts with, if any.
    static func family(of text: String) -> (prefix: String, actor: String)? {
        families.first { text.hasPrefix($0.prefix) }
    }

    /// Checks `--prefix`.
    /// - Throws: `CLIFailure.usage` for a prefix outside the rule or one of a family.
    static func checkPrefix(_ prefix: String) throws {
        if let rule = prefixRule(prefix) { throw CLIFailure.usage("--prefix \(Escape.quoted(prefix)) \(rule)") }
        if let f = family(of: prefix) {
            throw CLIFailure.usage("--prefix \(Escape.quoted(prefix)) starts with \(f.prefix), names that \(f.actor) acts on",
                                   hints: ["choose a prefix of your own, such as ACME_"])
        }
    }

    /// Why `name` must not be exported, or nil when nothing listed acts on it.
    static func refusal(_ name: String) -> String? {
        let b = Array(name.utf8)
        // Only a shell identifier can follow the prefix: anything else would break the line.
        guard let first = b.first, (0x41...0x5a).contains(first) || first == 0x5f,
              b.allSatisfy({ (0x41...0x5a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f }) else {
            return "which is not a shell variable name"
        }
        guard let actor = names[name] ?? family(of: name)?.actor else { return nil }
        return "a variable \(actor) acts on"
    }
}
