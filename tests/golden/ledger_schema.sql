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
CREATE TRIGGER attempts_rollup_delete AFTER DELETE ON attempts BEGIN 
UPDATE spend_rollup SET n = n - 1, firsts = firsts - (OLD.attempt = 1), seconds = seconds - (OLD.attempt = 2),
    input = input - OLD.input_tokens, output = output - OLD.output_tokens,
    cw = cw - (OLD.cache_write_5m_tokens + OLD.cache_write_1h_tokens), cr = cr - OLD.cache_read_tokens,
    cost = cost - OLD.cost_micros, cf = cf - OLD.counterfactual_micros
WHERE repo = COALESCE(OLD.repo, '') AND day = OLD.day AND source = OLD.source AND task = OLD.task AND tier = OLD.tier AND model = COALESCE(OLD.model, OLD.provider) AND outcome = OLD.outcome AND draft = (OLD.cache_key IS NOT NULL);
DELETE FROM spend_rollup WHERE n = 0 AND repo = COALESCE(OLD.repo, '') AND day = OLD.day AND source = OLD.source AND task = OLD.task AND tier = OLD.tier AND model = COALESCE(OLD.model, OLD.provider) AND outcome = OLD.outcome AND draft = (OLD.cache_key IS NOT NULL);
UPDATE spend_latency SET n = n - 1
WHERE OLD.outcome IN ('ok', 'check_failed', 'provider_error') AND repo = COALESCE(OLD.repo, '') AND day = OLD.day AND tier = OLD.tier AND ms = CASE WHEN OLD.latency_ms < 100 THEN OLD.latency_ms WHEN OLD.latency_ms < 1000 THEN OLD.latency_ms / 25 * 25 WHEN OLD.latency_ms < 10000 THEN OLD.latency_ms / 250 * 250 WHEN OLD.latency_ms < 100000 THEN OLD.latency_ms / 2500 * 2500 ELSE OLD.latency_ms / 25000 * 25000 END;
DELETE FROM spend_latency WHERE n = 0 AND repo = COALESCE(OLD.repo, '') AND day = OLD.day AND tier = OLD.tier;

UPDATE spend_rollup SET n = n - 1, firsts = firsts - (OLD.attempt = 1), seconds = seconds - (OLD.attempt = 2),
    input = input - OLD.input_tokens, output = output - OLD.output_tokens,
    cw = cw - (OLD.cache_write_5m_tokens + OLD.cache_write_1h_tokens), cr = cr - OLD.cache_read_tokens,
    cost = cost - OLD.cost_micros, cf = cf - OLD.counterfactual_micros
WHERE repo = '*' AND day = OLD.day AND source = OLD.source AND task = OLD.task AND tier = OLD.tier AND model = COALESCE(OLD.model, OLD.provider) AND outcome = OLD.outcome AND draft = (OLD.cache_key IS NOT NULL);
DELETE FROM spend_rollup WHERE n = 0 AND repo = '*' AND day = OLD.day AND source = OLD.source AND task = OLD.task AND tier = OLD.tier AND model = COALESCE(OLD.model, OLD.provider) AND outcome = OLD.outcome AND draft = (OLD.cache_key IS NOT NULL);
UPDATE spend_latency SET n = n - 1
WHERE OLD.outcome IN ('ok', 'check_failed', 'provider_error') AND repo = '*' AND day = OLD.day AND tier = OLD.tier AND ms = CASE WHEN OLD.latency_ms < 100 THEN OLD.latency_ms WHEN OLD.latency_ms < 1000 THEN OLD.latency_ms / 25 * 25 WHEN OLD.latency_ms < 10000 THEN OLD.latency_ms / 250 * 250 WHEN OLD.latency_ms < 100000 THEN OLD.latency_ms / 2500 * 2500 ELSE OLD.latency_ms / 25000 * 25000 END;
DELETE FROM spend_latency WHERE n = 0 AND repo = '*' AND day = OLD.day AND tier = OLD.tier;
DELETE FROM spend_drafts WHERE id = OLD.id; END
CREATE TRIGGER attempts_rollup_insert AFTER INSERT ON attempts BEGIN 
INSERT INTO spend_rollup VALUES (NEW.day, COALESCE(NEW.repo, ''), NEW.source, NEW.task, NEW.tier, COALESCE(NEW.model, NEW.provider), NEW.outcome, NEW.cache_key IS NOT NULL, 1, NEW.attempt = 1, NEW.attempt = 2, NEW.input_tokens, NEW.output_tokens,
    NEW.cache_write_5m_tokens + NEW.cache_write_1h_tokens, NEW.cache_read_tokens, NEW.cost_micros, NEW.counterfactual_micros)
ON CONFLICT DO UPDATE SET n = n + 1, firsts = firsts + excluded.firsts, seconds = seconds + excluded.seconds,
    input = input + excluded.input, output = output + excluded.output, cw = cw + excluded.cw, cr = cr + excluded.cr,
    cost = cost + excluded.cost, cf = cf + excluded.cf;
INSERT INTO spend_latency SELECT COALESCE(NEW.repo, ''), NEW.day, NEW.tier, CASE WHEN NEW.latency_ms < 100 THEN NEW.latency_ms WHEN NEW.latency_ms < 1000 THEN NEW.latency_ms / 25 * 25 WHEN NEW.latency_ms < 10000 THEN NEW.latency_ms / 250 * 250 WHEN NEW.latency_ms < 100000 THEN NEW.latency_ms / 2500 * 2500 ELSE NEW.latency_ms / 25000 * 25000 END, 1 WHERE NEW.outcome IN ('ok', 'check_failed', 'provider_error')
ON CONFLICT DO UPDATE SET n = n + 1;

INSERT INTO spend_rollup VALUES (NEW.day, '*', NEW.source, NEW.task, NEW.tier, COALESCE(NEW.model, NEW.provider), NEW.outcome, NEW.cache_key IS NOT NULL, 1, NEW.attempt = 1, NEW.attempt = 2, NEW.input_tokens, NEW.output_tokens,
    NEW.cache_write_5m_tokens + NEW.cache_write_1h_tokens, NEW.cache_read_tokens, NEW.cost_micros, NEW.counterfactual_micros)
ON CONFLICT DO UPDATE SET n = n + 1, firsts = firsts + excluded.firsts, seconds = seconds + excluded.seconds,
    input = input + excluded.input, output = output + excluded.output, cw = cw + excluded.cw, cr = cr + excluded.cr,
    cost = cost + excluded.cost, cf = cf + excluded.cf;
INSERT INTO spend_latency SELECT '*', NEW.day, NEW.tier, CASE WHEN NEW.latency_ms < 100 THEN NEW.latency_ms WHEN NEW.latency_ms < 1000 THEN NEW.latency_ms / 25 * 25 WHEN NEW.latency_ms < 10000 THEN NEW.latency_ms / 250 * 250 WHEN NEW.latency_ms < 100000 THEN NEW.latency_ms / 2500 * 2500 ELSE NEW.latency_ms / 25000 * 25000 END, 1 WHERE NEW.outcome IN ('ok', 'check_failed', 'provider_error')
ON CONFLICT DO UPDATE SET n = n + 1;

INSERT INTO spend_drafts SELECT NEW.id, NEW.cache_key, NEW.day, COALESCE(NEW.repo, ''), NEW.source, NEW.task, NEW.tier,
    COALESCE(NEW.model, NEW.provider), NEW.cost_micros, NEW.counterfactual_micros, 0
WHERE NEW.cache_key IS NOT NULL AND NEW.outcome = 'ok';
UPDATE spend_drafts SET used = 1
WHERE NEW.outcome = 'cache_hit' AND (cache_key = NEW.cache_key OR id = NEW.parent_id);
 END
CREATE TRIGGER attempts_rollup_update AFTER UPDATE OF day, repo, source, task, tier, model, provider, outcome, cache_key, parent_id, attempt, input_tokens, output_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, cost_micros, counterfactual_micros, latency_ms ON attempts BEGIN 
UPDATE spend_rollup SET n = n - 1, firsts = firsts - (OLD.attempt = 1), seconds = seconds - (OLD.attempt = 2),
    input = input - OLD.input_tokens, output = output - OLD.output_tokens,
    cw = cw - (OLD.cache_write_5m_tokens + OLD.cache_write_1h_tokens), cr = cr - OLD.cache_read_tokens,
    cost = cost - OLD.cost_micros, cf = cf - OLD.counterfactual_micros
WHERE repo = COALESCE(OLD.repo, '') AND day = OLD.day AND source = OLD.source AND task = OLD.task AND tier = OLD.tier AND model = COALESCE(OLD.model, OLD.provider) AND outcome = OLD.outcome AND draft = (OLD.cache_key IS NOT NULL);
DELETE FROM spend_rollup WHERE n = 0 AND repo = COALESCE(OLD.repo, '') AND day = OLD.day AND source = OLD.source AND task = OLD.task AND tier = OLD.tier AND model = COALESCE(OLD.model, OLD.provider) AND outcome = OLD.outcome AND draft = (OLD.cache_key IS NOT NULL);
UPDATE spend_latency SET n = n - 1
WHERE OLD.outcome IN ('ok', 'check_failed', 'provider_error') AND repo = COALESCE(OLD.repo, '') AND day = OLD.day AND tier = OLD.tier AND ms = CASE WHEN OLD.latency_ms < 100 THEN OLD.latency_ms WHEN OLD.latency_ms < 1000 THEN OLD.latency_ms / 25 * 25 WHEN OLD.latency_ms < 10000 THEN OLD.latency_ms / 250 * 250 WHEN OLD.latency_ms < 100000 THEN OLD.latency_ms / 2500 * 2500 ELSE OLD.latency_ms / 25000 * 25000 END;
DELETE FROM spend_latency WHERE n = 0 AND repo = COALESCE(OLD.repo, '') AND day = OLD.day AND tier = OLD.tier;

UPDATE spend_rollup SET n = n - 1, firsts = firsts - (OLD.attempt = 1), seconds = seconds - (OLD.attempt = 2),
    input = input - OLD.input_tokens, output = output - OLD.output_tokens,
    cw = cw - (OLD.cache_write_5m_tokens + OLD.cache_write_1h_tokens), cr = cr - OLD.cache_read_tokens,
    cost = cost - OLD.cost_micros, cf = cf - OLD.counterfactual_micros
WHERE repo = '*' AND day = OLD.day AND source = OLD.source AND task = OLD.task AND tier = OLD.tier AND model = COALESCE(OLD.model, OLD.provider) AND outcome = OLD.outcome AND draft = (OLD.cache_key IS NOT NULL);
DELETE FROM spend_rollup WHERE n = 0 AND repo = '*' AND day = OLD.day AND source = OLD.source AND task = OLD.task AND tier = OLD.tier AND model = COALESCE(OLD.model, OLD.provider) AND outcome = OLD.outcome AND draft = (OLD.cache_key IS NOT NULL);
UPDATE spend_latency SET n = n - 1
WHERE OLD.outcome IN ('ok', 'check_failed', 'provider_error') AND repo = '*' AND day = OLD.day AND tier = OLD.tier AND ms = CASE WHEN OLD.latency_ms < 100 THEN OLD.latency_ms WHEN OLD.latency_ms < 1000 THEN OLD.latency_ms / 25 * 25 WHEN OLD.latency_ms < 10000 THEN OLD.latency_ms / 250 * 250 WHEN OLD.latency_ms < 100000 THEN OLD.latency_ms / 2500 * 2500 ELSE OLD.latency_ms / 25000 * 25000 END;
DELETE FROM spend_latency WHERE n = 0 AND repo = '*' AND day = OLD.day AND tier = OLD.tier;
DELETE FROM spend_drafts WHERE id = OLD.id; 
INSERT INTO spend_rollup VALUES (NEW.day, COALESCE(NEW.repo, ''), NEW.source, NEW.task, NEW.tier, COALESCE(NEW.model, NEW.provider), NEW.outcome, NEW.cache_key IS NOT NULL, 1, NEW.attempt = 1, NEW.attempt = 2, NEW.input_tokens, NEW.output_tokens,
    NEW.cache_write_5m_tokens + NEW.cache_write_1h_tokens, NEW.cache_read_tokens, NEW.cost_micros, NEW.counterfactual_micros)
ON CONFLICT DO UPDATE SET n = n + 1, firsts = firsts + excluded.firsts, seconds = seconds + excluded.seconds,
    input = input + excluded.input, output = output + excluded.output, cw = cw + excluded.cw, cr = cr + excluded.cr,
    cost = cost + excluded.cost, cf = cf + excluded.cf;
INSERT INTO spend_latency SELECT COALESCE(NEW.repo, ''), NEW.day, NEW.tier, CASE WHEN NEW.latency_ms < 100 THEN NEW.latency_ms WHEN NEW.latency_ms < 1000 THEN NEW.latency_ms / 25 * 25 WHEN NEW.latency_ms < 10000 THEN NEW.latency_ms / 250 * 250 WHEN NEW.latency_ms < 100000 THEN NEW.latency_ms / 2500 * 2500 ELSE NEW.latency_ms / 25000 * 25000 END, 1 WHERE NEW.outcome IN ('ok', 'check_failed', 'provider_error')
ON CONFLICT DO UPDATE SET n = n + 1;

INSERT INTO spend_rollup VALUES (NEW.day, '*', NEW.source, NEW.task, NEW.tier, COALESCE(NEW.model, NEW.provider), NEW.outcome, NEW.cache_key IS NOT NULL, 1, NEW.attempt = 1, NEW.attempt = 2, NEW.input_tokens, NEW.output_tokens,
    NEW.cache_write_5m_tokens + NEW.cache_write_1h_tokens, NEW.cache_read_tokens, NEW.cost_micros, NEW.counterfactual_micros)
ON CONFLICT DO UPDATE SET n = n + 1, firsts = firsts + excluded.firsts, seconds = seconds + excluded.seconds,
    input = input + excluded.input, output = output + excluded.output, cw = cw + excluded.cw, cr = cr + excluded.cr,
    cost = cost + excluded.cost, cf = cf + excluded.cf;
INSERT INTO spend_latency SELECT '*', NEW.day, NEW.tier, CASE WHEN NEW.latency_ms < 100 THEN NEW.latency_ms WHEN NEW.latency_ms < 1000 THEN NEW.latency_ms / 25 * 25 WHEN NEW.latency_ms < 10000 THEN NEW.latency_ms / 250 * 250 WHEN NEW.latency_ms < 100000 THEN NEW.latency_ms / 2500 * 2500 ELSE NEW.latency_ms / 25000 * 25000 END, 1 WHERE NEW.outcome IN ('ok', 'check_failed', 'provider_error')
ON CONFLICT DO UPDATE SET n = n + 1;

INSERT INTO spend_drafts SELECT NEW.id, NEW.cache_key, NEW.day, COALESCE(NEW.repo, ''), NEW.source, NEW.task, NEW.tier,
    COALESCE(NEW.model, NEW.provider), NEW.cost_micros, NEW.counterfactual_micros, 0
WHERE NEW.cache_key IS NOT NULL AND NEW.outcome = 'ok';
UPDATE spend_drafts SET used = 1
WHERE NEW.outcome = 'cache_hit' AND (cache_key = NEW.cache_key OR id = NEW.parent_id);
 END
CREATE TABLE audit_files (
            path TEXT PRIMARY KEY,
            inode INTEGER NOT NULL,
            size INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            head TEXT NOT NULL,
            task TEXT,
            tier TEXT
        )
CREATE TABLE audit_key_runs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, keys BLOB NOT NULL)
CREATE TABLE audit_prompt_rollup (
        day TEXT NOT NULL, task TEXT NOT NULL, tier TEXT NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (day, task, tier)
    ) WITHOUT ROWID
CREATE TABLE audit_rollup (
        day TEXT NOT NULL, model TEXT NOT NULL, task TEXT NOT NULL, tier TEXT NOT NULL,
        entries INTEGER NOT NULL, input INTEGER NOT NULL, output INTEGER NOT NULL, cw INTEGER NOT NULL,
        cr INTEGER NOT NULL, cost INTEGER NOT NULL, routed INTEGER NOT NULL,
        PRIMARY KEY (day, model, task, tier)
    ) WITHOUT ROWID
CREATE TABLE budget_holds (id INTEGER PRIMARY KEY AUTOINCREMENT, day TEXT NOT NULL, tier TEXT NOT NULL, micros INTEGER NOT NULL, expires REAL NOT NULL)
CREATE TABLE migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)
CREATE TABLE spend_drafts (
        id INTEGER PRIMARY KEY, cache_key TEXT NOT NULL, day TEXT NOT NULL, repo TEXT NOT NULL,
        source TEXT NOT NULL, task TEXT NOT NULL, tier TEXT NOT NULL, model TEXT NOT NULL,
        cost INTEGER NOT NULL, cf INTEGER NOT NULL, used INTEGER NOT NULL
    )
CREATE INDEX spend_drafts_key ON spend_drafts (cache_key)
CREATE INDEX spend_drafts_unused ON spend_drafts (day) WHERE used = 0
CREATE TABLE spend_latency (
        repo TEXT NOT NULL, day TEXT NOT NULL, tier TEXT NOT NULL, ms INTEGER NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (repo, day, tier, ms)
    ) WITHOUT ROWID
CREATE TABLE spend_rollup (
        day TEXT NOT NULL, repo TEXT NOT NULL, source TEXT NOT NULL, task TEXT NOT NULL,
        tier TEXT NOT NULL, model TEXT NOT NULL, outcome TEXT NOT NULL, draft INTEGER NOT NULL,
        n INTEGER NOT NULL, firsts INTEGER NOT NULL, seconds INTEGER NOT NULL,
        input INTEGER NOT NULL, output INTEGER NOT NULL, cw INTEGER NOT NULL, cr INTEGER NOT NULL,
        cost INTEGER NOT NULL, cf INTEGER NOT NULL,
        PRIMARY KEY (repo, day, source, task, tier, model, outcome, draft)
    ) WITHOUT ROWID
CREATE TABLE sqlite_sequence(name,seq)
