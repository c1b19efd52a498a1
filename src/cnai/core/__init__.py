"""The shared core: one home for facts and mechanisms that several capabilities use.

- `safeio`     safe output: refuse outputs that resolve to an input or are not regular files, atomic
               replace honouring the umask, fsync of file and directory.
- `loaders`    YAML/JSON with limits: no unbounded aliases, duplicate keys rejected, depth and size caps,
               one-line errors naming the file, line and limit.
- `jsonutil`   the one JSON encoder (dates, paths, pydantic models, sets).
- `checkdigit` check characters: GB 32100 (USCC), GB 11714 (organisation code), GB 11643 (resident ID), Luhn.
- `stats`      the Wilson score interval.
- `taxonomy`   the 31 risks of GB/T 45654 Appendix A.
- `plugins`    extension points and their registrations (Python entry points).

Nothing here imports `cnai.cli` or a capability package: they import the core, never the reverse.
"""
