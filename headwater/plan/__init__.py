"""Planning: canonical hashing, file digests with a stat cache, snapshots, fingerprints."""
