-- One-off repair, not a migration (issue 26, defect 4). Registries before it wrote a version and
-- moved loras.latest_version in two statements; a crash between them left latest_version behind its
-- highest version (null for a LoRA a tune job created). A completion replay now repairs its own LoRA,
-- but a job whose mark was already cleared is never replayed: this sets every LoRA's latest_version
-- to its highest version (versions are never removed), touching only the rows that disagree.
-- Node: sqlite3 $MOTION_LORA_HOME/registry.db < this file; Workers: wrangler d1 execute DB --file this file.
UPDATE loras
SET latest_version = (SELECT max(v.version) FROM lora_versions v WHERE v.lora_id = loras.id)
WHERE latest_version IS NOT (SELECT max(v.version) FROM lora_versions v WHERE v.lora_id = loras.id);
