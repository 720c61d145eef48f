CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            day TEXT NOT NULL,
            session TEXT,
            repo TEXT,
            source TEXT NOT NULL,
            request_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            task TEXT NOT NULL,
            tier TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_5m_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            cost_micros INTEGER NOT NULL DEFAULT 0,
            counterfactual_micros INTEGER NOT NULL DEFAULT 0,
            latency_ms INTEGER NOT NULL DEFAULT 0,
            outcome TEXT NOT NULL,
            reason TEXT,
            redacted INTEGER NOT NULL DEFAULT 0,
            provider_request_id TEXT,
            prompt TEXT
        , parent_id INTEGER, phase TEXT, cache_key TEXT)
CREATE INDEX attempts_cache_key ON attempts (cache_key) WHERE cache_key IS NOT NULL
CREATE INDEX attempts_day ON attempts (day, tier)
CREATE INDEX attempts_parent ON attempts (parent_id) WHERE parent_id IS NOT NULL
CREATE INDEX attempts_repo_ts ON attempts (repo, ts)
CREATE INDEX attempts_request ON attempts (request_id)
CREATE TABLE audit_files (
            path TEXT PRIMARY KEY,
            inode INTEGER NOT NULL,
            size INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            head TEXT NOT NULL,
            task TEXT,
            tier TEXT
        )
CREATE TABLE audit_prompts (
            key TEXT PRIMARY KEY,
            ts TEXT NOT NULL,
            day TEXT NOT NULL,
            session TEXT,
            project TEXT,
            task TEXT NOT NULL,
            tier TEXT NOT NULL
        )
CREATE INDEX audit_prompts_session ON audit_prompts (session, ts)
CREATE TABLE audit_usage (
            key TEXT PRIMARY KEY,
            ts TEXT NOT NULL,
            day TEXT NOT NULL,
            session TEXT,
            project TEXT,
            model TEXT NOT NULL,
            sidechain INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_write_5m_tokens INTEGER NOT NULL,
            cache_write_1h_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cost_micros INTEGER NOT NULL,
            task TEXT,
            tier TEXT,
            routed_cost_micros INTEGER NOT NULL,
            imported INTEGER NOT NULL DEFAULT 0
        )
CREATE INDEX audit_usage_day ON audit_usage (day, model)
CREATE TABLE migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)
