-- Issue 27: the torch engine's failure codes worker_crashed and worker_error are now engine_crashed
-- and engine_error ("worker" names only the Cloudflare Worker). Failed jobs keep their code in the
-- JSON of jobs.error and of their failed status event; rewrite the old codes so the API never
-- returns a code the SDK's JobErrorCode no longer lists. Messages are kept as they were written.
UPDATE `jobs`
SET `error` = json_set(`error`, '$.code', CASE json_extract(`error`, '$.code') WHEN 'worker_crashed' THEN 'engine_crashed' ELSE 'engine_error' END)
WHERE (CASE WHEN json_valid(`error`) THEN json_extract(`error`, '$.code') END) IN ('worker_crashed', 'worker_error');--> statement-breakpoint
UPDATE `job_events`
SET `data` = json_set(`data`, '$.error.code', CASE json_extract(`data`, '$.error.code') WHEN 'worker_crashed' THEN 'engine_crashed' ELSE 'engine_error' END)
WHERE (CASE WHEN json_valid(`data`) THEN json_extract(`data`, '$.error.code') END) IN ('worker_crashed', 'worker_error');
