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
CREATE INDEX attempts_day ON attempts (day, tier)
CREATE INDEX attempts_request ON attempts (request_id)
CREATE TABLE migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)
