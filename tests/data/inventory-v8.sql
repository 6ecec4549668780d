-- The inventory's schema at version 8 (certvigil before issue 16's
-- compact certs and sources), as sqlite3 .schema printed it from a
-- database certvigild made; tests/inventory-migrate.sh fills it.
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE certs(  sha1 TEXT PRIMARY KEY, sha256 TEXT NOT NULL, subject TEXT NOT NULL,  issuer TEXT NOT NULL, serial TEXT NOT NULL,  not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,  key_type TEXT NOT NULL, key_bits INTEGER NOT NULL,  sig_alg TEXT NOT NULL, san TEXT NOT NULL, eku TEXT NOT NULL,  is_ca INTEGER NOT NULL, key_usage INTEGER NOT NULL,  role TEXT NOT NULL, first_seen INTEGER NOT NULL,  next_alert INTEGER DEFAULT 0, superseded INTEGER NOT NULL DEFAULT 0, warnings TEXT);
CREATE INDEX certs_next_alert ON certs(next_alert);
CREATE INDEX certs_subject ON certs(subject);
CREATE TABLE files(  id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, watch TEXT,  format TEXT, inode INTEGER, size INTEGER, mtime_ns INTEGER,  error TEXT, gone INTEGER NOT NULL DEFAULT 0,  first_seen INTEGER NOT NULL, last_change INTEGER NOT NULL,  drift TEXT);
CREATE TABLE sources(  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,  idx INTEGER NOT NULL, sha1 TEXT NOT NULL REFERENCES certs(sha1),  has_key INTEGER NOT NULL, key_matches INTEGER,  PRIMARY KEY(file_id, idx));
CREATE INDEX sources_sha1 ON sources(sha1);
CREATE TABLE events(  id INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL,  path TEXT, sha1 TEXT, message TEXT NOT NULL);
CREATE INDEX events_time ON events(time);
CREATE INDEX events_sha1 ON events(sha1);
CREATE INDEX events_path ON events(path);
CREATE TABLE alerts_sent(sha1 TEXT NOT NULL, threshold TEXT NOT NULL,  time INTEGER NOT NULL, sent INTEGER NOT NULL,  PRIMARY KEY(sha1, threshold));
CREATE TABLE alert_queue(id INTEGER PRIMARY KEY, payload TEXT NOT NULL,  attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL,  last_error TEXT);
CREATE TABLE bindings(  name TEXT PRIMARY KEY, endpoint TEXT NOT NULL,  certhash TEXT, appid TEXT, source TEXT NOT NULL,  settings TEXT NOT NULL DEFAULT '{}',  created INTEGER NOT NULL, updated INTEGER NOT NULL);
CREATE TABLE renewals(  id INTEGER PRIMARY KEY, binding TEXT NOT NULL, state TEXT NOT NULL,  old_sha1 TEXT, new_sha1 TEXT, attempt INTEGER NOT NULL,  reason TEXT NOT NULL, error TEXT, next_attempt INTEGER,  started INTEGER NOT NULL, updated INTEGER NOT NULL, restored_sha1 TEXT, down_since_ms INTEGER, downtime_ms INTEGER);
CREATE INDEX renewals_binding ON renewals(binding, id);
CREATE TABLE renewal_steps(  renewal INTEGER NOT NULL REFERENCES renewals(id) ON DELETE CASCADE,  state TEXT NOT NULL, time INTEGER NOT NULL, detail TEXT);
CREATE INDEX renewal_steps_renewal ON renewal_steps(renewal);
CREATE TABLE store(  sha1 TEXT PRIMARY KEY, binding TEXT NOT NULL,  added INTEGER NOT NULL);
CREATE INDEX store_binding ON store(binding, added);
CREATE TABLE crls(  path TEXT NOT NULL, idx INTEGER NOT NULL, sha1 TEXT NOT NULL,  issuer TEXT NOT NULL, this_update INTEGER NOT NULL,  next_update INTEGER, revoked INTEGER NOT NULL, number TEXT,  watch TEXT, next_alert INTEGER DEFAULT 0,  PRIMARY KEY(path, idx));
CREATE INDEX crls_next_alert ON crls(next_alert);
CREATE TABLE served(  binding TEXT NOT NULL, endpoint TEXT NOT NULL,  time INTEGER NOT NULL, origin TEXT NOT NULL, sha1 TEXT,  not_after INTEGER, protocol TEXT, expected_sha1 TEXT,  require_client_cert INTEGER NOT NULL,  client_cert_required INTEGER, accepted_without_cert INTEGER,  error TEXT, duration_ms INTEGER NOT NULL,  drift_sha1 TEXT, mtls_alerted INTEGER NOT NULL DEFAULT 0,  PRIMARY KEY(binding, endpoint)) WITHOUT ROWID;
CREATE TABLE ari(  binding TEXT PRIMARY KEY, certhash TEXT NOT NULL, cert_id TEXT,  window_start INTEGER, window_end INTEGER, explanation_url TEXT,  next_poll INTEGER NOT NULL, last_error TEXT,  polled INTEGER NOT NULL);
PRAGMA user_version = 8;
