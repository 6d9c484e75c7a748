"""Every user-facing sentence in one place, so wording stays consistent and reviewable.

Format fields are filled with ``str.format``; a ``{value}`` is always passed in as
its ``repr`` so an empty string or stray whitespace is visible.
"""

from __future__ import annotations

# Validation: each names the field, the value given and what is allowed.
INVALID_FIELD = "{field}: {value} is not allowed; {allowed}."
ALLOWED_MODEL = "use one of {choices}"
ALLOWED_DURATION = "{model} accepts {choices} seconds"
ALLOWED_CHOICE = "use one of {choices}"
ALLOWED_PROMPT = "the prompt must contain some text"
ALLOWED_PROMPT_TEXT = (
    "text that can be sent as UTF-8 (it holds a lone surrogate, e.g. half of an emoji)"
)
ALLOWED_MEDIA_COUNT = "give between 1 and {maximum} media URLs, or none for text-to-video"
#: Said with a count, not the list: six long URLs in one line are unreadable.
TOO_MANY_MEDIA = "media_urls: you gave {count}; {allowed}."
ALLOWED_MEDIA_URL = (
    "use a public https:// URL ending in a known extension ({extensions})"
)
ALLOWED_MEDIA_URL_LOOPBACK = (
    "use a public https:// URL (or, with the emulator, a loopback http:// URL) "
    "ending in a known extension ({extensions})"
)
MEDIA_NO_EXTENSION = (
    "its path has no file extension, and the service tells an image, a video and an "
    "audio reference apart by it; use the file's own address, ending in one of "
    "{extensions} (a query such as ?w=800 may follow)"
)
ALLOWED_WEBHOOK = "use an http:// or https:// URL"
ALLOWED_METADATA = "give a JSON object (a dict with string keys and JSON values)"
ALLOWED_METADATA_JSON = "give a JSON object, for example {{\"project\": \"demo\"}}"

# Client
MALFORMED_RESPONSE = "The service sent an answer this client cannot read ({detail})."
AMBIGUOUS_SUBMIT = (
    "The create request may have reached the service, but its answer was lost ({detail}). "
    "It was NOT resent, so you are not charged twice. The job carries client token {token}; "
    "it will be matched by webhook or lookup. Check the dashboard before submitting again."
)
INTERRUPTED_IN_FLIGHT = "interrupted while the request was on the wire"
WAIT_TIMEOUT = "Job {request_id} was still {status} after {timeout:g} s."
NETWORK_FAILED = "Could not reach {base_url} ({detail})."
BAD_API_KEY = (
    "The API key contains spaces, line breaks or control characters inside it, so it "
    "cannot be sent; nothing was sent. Check SEEDANCE_API_KEY (surrounding whitespace is fine)."
)
CREATE_BUSY = (
    "The service is rate limiting new jobs: waited {waited:.0f} s for a slot and would need "
    "{retry:.0f} s more. Nothing was created or charged; run the cell again later."
)
WAITING_FOR_IDENTICAL = (
    "An identical job is being submitted by {owner} and its answer is not in yet: waiting "
    "up to {seconds:.0f} s for it, so the job is not paid twice."
)
CLAIMER = "process {pid} on {host}"
CLAIMER_UNNAMED = "another process"
CLAIMER_GONE = (
    "{owner} ended while its create request was on the wire; the job may have been "
    "charged, so it is not sent again"
)
WAITING_FOR_SLOT = "The service is busy (rate limited): waiting {seconds:.0f} s for a slot..."
NO_API_KEY = (
    "No API key: set SEEDANCE_API_KEY, or leave both SEEDANCE_API_KEY and "
    "SEEDANCE_BASE_URL unset to use the local emulator."
)
EMULATOR_MISSING = (
    "The local emulator needs its extra: pip install 'seedance-jupyter[emulator]'; "
    "or set SEEDANCE_API_KEY to use the real service."
)

# Kernel side
SUBMITTING = (
    "Submitting {model}, {duration} s, {resolution}, {ratio}: estimated ${usd:.2f} ({backend})."
)
REATTACHED = (
    "Re-attached to job {request_id} that an identical run already made ({status}); "
    "no new charge. {hint}"
)
NEW_JOB_HINT = "Add --new for a fresh paid job."
FORM_NEW_JOB_HINT = "Tick \"New take\" for a fresh paid job."
REATTACHED_FROM = (
    "That job was made from {origin}: identical jobs are re-used across notebooks "
    "(SeedanceMagics.reuse_across_notebooks)."
)
UNCERTAIN_EXISTS = (
    "An identical earlier submission is uncertain (client token {token}): it may have been "
    "charged. Not resubmitting; check the dashboard, then add --new to submit anyway."
)
REQUEST_ID_TAKEN = (
    "the service answered request id {request_id}, which another job of this ledger already "
    "has; this submission was charged but cannot be told apart from that job"
)
CREATE_ANSWER_UNREAD = (
    "The service accepted and charged this job, but part of its answer was off-contract "
    "({detail}); the job is tracked by its request id."
)
LEDGER_WRITE_FAILED = (
    "Warning: the ledger could not record paid job {request_id} (locked or disk full). "
    "It is tracked in this kernel, kept in {journal}, and written to the ledger as soon "
    "as it allows; keep this request id."
)
LEDGER_ON_NETWORK_FS = (
    "Warning: the ledger {path} is on a {fs} file system, where SQLite's locks are unsafe "
    "(a re-run could pay twice, the file could corrupt); set SEEDANCE_DB_URL (or "
    "JobSettings.db_url) to postgresql://... or move SEEDANCE_HOME to a local disk."
)
LEDGER_UNREACHABLE = (
    "The ledger database {name} is unreachable ({detail}); nothing is sent until it is back."
)
LEDGER_COPIED = (
    "Copied {count} job(s) from {source} to {target}; jobs it already held were kept, "
    "or moved forward to the later status."
)
LEDGER_COPY_SAME = "Not copying {name} into itself: --from and --to name the same ledger."
LEDGER_BAD_URL = (
    "db_url {url!r} is not a ledger database: use sqlite:///PATH (the default is "
    "ledger.sqlite3 in SEEDANCE_HOME) or postgresql://USER@HOST/DATABASE."
)
LEDGER_NEEDS_DRIVER = (
    "db_url {name} needs PostgreSQL's driver: pip install 'seedance-jupyter[postgres]'."
)
LEDGER_CLOSED = "The ledger is closed."
LEDGER_NEWER_SCHEMA = (
    "The ledger {path} was written by a newer seedance_jupyter (schema {found}, this "
    "version knows {known}); upgrade seedance_jupyter to use it."
)
LEDGER_UNUSABLE = (
    "Seedance is off: its ledger cannot be written in {folder} ({detail}). Make that folder "
    "writable, or set SEEDANCE_HOME to a writable folder, then restart the kernel; nothing "
    "can be submitted until then."
)
LEDGER_MOVED_ASIDE = (
    "The Seedance ledger {path} could not be read and was moved to {aside}; a new one was "
    "started. Its paid jobs may be read back with: sqlite3 {aside} .recover"
)
UNFINISHED_ON_LOAD = (
    "{count} unfinished Seedance job(s) from an earlier session: "
    "%seedance resume re-attaches them."
)
UNCERTAIN_ON_LOAD = (
    "{count} earlier submission(s) may have been charged without an answer (the kernel "
    "stopped mid-request): %seedance jobs lists them; %seedance reconcile REQUEST_ID matches "
    "one to a job seen on the dashboard; --new submits again (and pays again)."
)
AGO = "{age} ago"
JOBS_VIDEO_MISSING = "{path} (not found)"
RESUMED = "Re-attached {count} unfinished job(s)."
NOTHING_TO_RESUME = "No unfinished jobs to resume."
WAIT_USAGE = "Usage: %seedance wait [--timeout SECONDS]"
WAIT_NOTHING = "No unfinished jobs in this kernel."
WAIT_SAVED = "{request_id}: succeeded, saved to {path}"
WAIT_SUCCEEDED = "{request_id}: succeeded, video at {url}"
WAIT_ENDED = "{request_id}: {status}{error}"
WAIT_STILL = "{request_id}: still {status} after {timeout:g} s"
WAIT_DOWNLOADING = "{request_id}: succeeded, download not finished after {timeout:g} s"
UNFINISHED_AT_EXIT = (
    "{count} Seedance job(s) still running (paid): %seedance resume in a new session "
    "picks them up."
)
BUDGET_SESSION = (
    "Budget: this job costs about ${usd:.2f}, but only ${left:.2f} of this session's "
    "${budget:.2f} is left; nothing was sent. Raise %config SeedanceMagics.budget_usd to go on."
)
BUDGET_DAILY = (
    "Daily budget: this job costs about ${usd:.2f}, but only ${left:.2f} of your "
    "${budget:.2f} for today is left; nothing was sent. Raise "
    "%config SeedanceMagics.daily_budget_usd."
)
BUDGET_TEAM_DAILY = (
    "Team daily budget: this job costs about ${usd:.2f}, but only ${left:.2f} of the team's "
    "${budget:.2f} for today is left; nothing was sent. Raise "
    "%config SeedanceMagics.team_daily_budget_usd."
)
BUDGET_TEAM_MONTHLY = (
    "Team monthly budget: this job costs about ${usd:.2f}, but only ${left:.2f} of the "
    "team's ${budget:.2f} for this month is left; nothing was sent. Raise "
    "%config SeedanceMagics.team_monthly_budget_usd."
)
UNKNOWN_JOB = "No job {request_id!r} in this ledger or on the service."
UNKNOWN_SUBCOMMAND = (
    "Unknown subcommand {name!r}; use one of: models, jobs, status ID, cancel ID, show ID, "
    "resume, wait [--timeout S], reconcile ID, spend [--team], form."
)
MISSING_ID = "%seedance {name} needs a request id, e.g. %seedance {name} req_123."
UNDEFINED_VARIABLE = (
    "prompt: {{{name}}} names no variable of the notebook; define it, or write {{{{ and }}}} "
    "for literal braces."
)
BAD_OUTPUT_NAME = (
    "-o/--output takes a Python variable name, not {name!r}; nothing was sent."
)
BAD_PLACEHOLDER = (
    "prompt: {field!r} is not a variable name; use {{name}}, or {{{{ and }}}} for literal braces."
)
BAD_METADATA_JSON = "metadata: {value} is not valid JSON ({detail}); give a JSON object."
CANCEL_FAILED = "Cancel failed: {detail}"
OUTPUT_NOT_REFRESHED = (
    "The video could not be saved: its link expired and a fresh one could not be fetched "
    "({detail}); %seedance resume tries again while the service still keeps it."
)
STATUS_UNREADABLE = (
    "The service's last {count} status answers for this job could not be read ({detail}); "
    "still checking, less often."
)
DOWNLOAD_FAILED = (
    "The video could not be saved ({detail}); it stays at its URL until that expires, and "
    "%seedance resume (or the Jupyter server) tries again."
)
NOT_OURS = (
    "Job {request_id} is not matched to an uncertain submission: it carries no client token "
    "of this ledger, and not exactly one uncertain submission has its prompt and settings."
)
WEBHOOK_REJECTED = "Webhook rejected: missing or wrong x-seedance-signature, or not a JSON body."
LOAD_EXTENSION_FIRST = "Load the extension first: %load_ext seedance_jupyter"

# Job card
CARD_CANCEL_LABEL = "Cancel"
CARD_CANCEL_TOOLTIP = "Cancel this job (queued or processing only)"
CARD_CANCEL_FAILED = "The cancel request failed: {detail}"
CARD_EMULATOR_BADGE = "EMULATOR"
CARD_BACKEND = "backend: {label}"
CARD_NO_REQUEST_ID = "no request id yet"
CARD_REQUEST_ID_TITLE = (
    "Request id: quote it to support, or check it with %seedance status {request_id}"
)
CARD_TOOK = "took {elapsed}"
CARD_ESTIMATE = "est. ${usd:.2f}"
CARD_CREDITS = "{credits} credits charged"
CARD_CHARGE_DIFFERED = (
    "charged ${usd:.2f}, {percent:.0f} % {direction} than the ${estimate:.2f} estimated"
)
CARD_CANCELLED_CHARGED = "{credits} credits charged, not refunded by the service"
CARD_CANCELLED_FREE = "no credits charged"
CARD_CANCELLED_UNKNOWN = "the service did not say whether credits were charged"
CARD_NOT_CHARGED = "not charged: the service refused the job"
CARD_ERROR = "Error {code}: {message}"
CARD_RUNNING = "Generating the video"
CARD_VIDEO_LABEL = "Generated video: {prompt}"
CARD_VIDEO_EXPIRES = (
    "Playing from the service's URL, which expires after about a day; the video was "
    "not downloaded."
)
CARD_VIDEO_MISSING = "Video file not found here: {name}"
CARD_VIDEO_NOT_SERVED = (
    "The video {path} is outside the folder Jupyter serves ({root}), so the saved notebook "
    "cannot play it; set download_dir to a folder inside it."
)
CARD_VIDEO_TOO_BIG = (
    "The video ({mb:.1f} MB) is over video_data_max_mb ({cap:g} MB), so it is linked by "
    "path rather than inlined."
)
CARD_DOWNLOAD = "Download video"
CARD_MEDIA = "media"
CARD_MEDIA_ITEM = "[{kind} {name}]"
CARD_NOT_LINKED = "{url} (not linked: only http(s) URLs and relative paths are)"
TEXT_SUMMARY = "Seedance job {request_id}: {status}{emulator}"
TEXT_EMULATOR = " (emulator)"
TEXT_VIDEO = "video: {location}"
TEXT_PROMPT = "prompt: {prompt}"
WAIT_INTERRUPTED = (
    "Stopped waiting; job {request_id} goes on ({status}, est. ${usd:.2f}): "
    "%seedance cancel {request_id} cancels it (or add --cancel-on-interrupt)."
)
WAIT_INTERRUPTED_CANCELLED = (
    "Stopped waiting and cancelled job {request_id} ({status}, est. ${usd:.2f})."
)
CANCEL_ALREADY_FINAL = "Job {request_id} is already {status}; there is nothing to cancel."
FORM_NEEDS_NOTEBOOK = (
    "%seedance form needs a notebook with widgets (JupyterLab, Notebook, VS Code, Colab); "
    "in a terminal use %%seedance."
)

# Widget form
FORM_TITLE = "Seedance"
FORM_BACKEND = "backend: {label}"
FORM_API_KEY_LABEL = "API key"
FORM_API_KEY_PLACEHOLDER = "paste your Seedance API key, then press Enter"
FORM_API_KEY_HINT = (
    "No API key was found. The key you enter is kept in this kernel's memory only, "
    "never in the notebook."
)
FORM_API_KEY_SET = "Key set for this kernel session."
FORM_API_KEY_MISSING = "API key: enter your Seedance API key above."
FORM_PROMPT_LABEL = "Prompt"
FORM_DURATION_CLAMPED = "{asked} s is not offered by {model}: set to {duration} s."
FORM_PROMPT_PLACEHOLDER = "Describe the video: subject, action, camera, style..."
FORM_MODEL_LABEL = "Model"
FORM_MODEL_OPTION = "{id} — {best_for}"
FORM_DURATION_LABEL = "Duration (s)"
FORM_RATIO_LABEL = "Aspect ratio"
FORM_RESOLUTION_LABEL = "Resolution"
FORM_MEDIA_HEADING = (
    "Reference media: up to {maximum} image, video or audio URLs (none for text-to-video)"
)
FORM_MEDIA_LABEL = "Media {number}"
FORM_MEDIA_PICK = "or a file"
FORM_MEDIA_PLACEHOLDER = "https://example.com/reference.png"
FORM_MEDIA_ALT = "Reference image {number}"
FORM_ADVANCED = "Advanced"
FORM_WEBHOOK_LABEL = "Webhook URL"
FORM_WEBHOOK_PLACEHOLDER = "https://example.com/seedance-webhook"
FORM_WEBHOOK_OK = "webhook URL accepted"
FORM_METADATA_LABEL = "Metadata"
FORM_METADATA_PLACEHOLDER = '{"project": "demo"}'
FORM_METADATA_OK = "JSON object accepted"
FORM_COST = "Estimated cost: ${rate}/s \N{MULTIPLICATION SIGN} {duration} s = ${usd:.2f}"
CREDITS_PER_USD_INVALID = "credits_per_usd: {value!r} is not allowed; use a number above 0."
FORM_COST_MEDIA = (
    "Estimated cost: ${rate}/s \N{MULTIPLICATION SIGN} {duration} s \N{MULTIPLICATION SIGN} "
    "{surcharge:g} (reference media) = ${usd:.2f}"
)
FORM_BUDGET_LEFT = " · budget left: ${left:.2f} of ${budget:.2f}"
FORM_TEAM_SPEND = " · team today: you ${you:.2f}, the team ${team:.2f}"
FORM_TEAM_SPEND_UNKNOWN = " · team today: the gateway did not say"
FORM_UNKNOWN_PRESET = "Unknown form preset(s): {names}. Allowed: prompt, {allowed}."
FORM_NEW_TAKE = "New take (pays again)"
FORM_SUBMIT = "Submit"
FORM_SUBMIT_TOOLTIP = "Submit this generation (credits are charged)"
FORM_SUBMITTED = "Submitted: job {request_id} is first in the list below."
FORM_SUBMIT_FAILED = "Not submitted: {detail}"
FORM_SUBMIT_UNEXPECTED = "Submission failed unexpectedly ({detail}); see the kernel log."
FORM_COPY = "Copy as %%seedance"
FORM_COPY_TOOLTIP = "Show the %%seedance cell that makes the same request"
FORM_MAGIC_LABEL = "Cell"
FORM_TEXT = "Seedance form (backend: {label}): a live widget; run the cell in a notebook to use it."
FORM_JOBS_TEXT = "Jobs submitted from the Seedance form:"
FORM_RATIO_TOOLTIPS = {"16:9": "landscape", "9:16": "portrait (vertical)", "1:1": "square"}

# Status words, read by status.label() for cards, tables and the panel.
STATUS_LABELS = {
    "pending": "submitting",
    "submission_uncertain": "submission uncertain",
}

# Server ---------------------------------------------------------------------
# The Jupyter server extension's REST, events and webhook answers.
SERVER_JOB_NOT_FOUND = "No job with request id {request_id!r} is in the ledger."
SERVER_ROUTE_NOT_FOUND = "No Seedance endpoint at {path!r}."
SERVER_BAD_LIMIT = "limit: {value!r} is not allowed; give a whole number from 1 to {maximum}."
SERVER_BAD_CURSOR = "before: {value!r} is not a cursor this server gave out."
SERVER_BAD_STATUS = (
    "status: {value!r} is not allowed; use one or more of {choices}, comma-separated."
)
SERVER_ALREADY_FINAL = (
    "Job {request_id} is already {status}; only queued or processing jobs can be cancelled."
)
SERVER_OTHER_BACKEND = (
    "Job {request_id} belongs to {backend}, not to the service this server talks to "
    "({ours}), so this server cannot cancel it."
)
SERVER_CANCEL_FAILED = "The service did not cancel job {request_id} ({detail})."
SERVER_WEBHOOK_UNSIGNED = (
    "Webhook refused: this server has no webhook secret (set SEEDANCE_WEBHOOK_SECRET or "
    "c.SeedanceServerApp.webhook_secret)."
)
SERVER_WEBHOOK_BAD_SIGNATURE = "Webhook refused: missing or wrong x-seedance-signature."
SERVER_WEBHOOK_UNKNOWN_JOB = "Webhook refused: no job in the ledger has this client token."
SERVER_WEBHOOK_BAD_BODY = "Webhook refused: the body is not a job status ({detail})."
SERVER_WEBHOOK_TAKEN = (
    "Webhook refused: job {sent} belongs to another submission of this ledger, not to this "
    "client token."
)
SERVER_WEBHOOK_OTHER_JOB = (
    "Webhook refused: it is about job {sent}, but this client token belongs to job {ours}."
)

# The team gateway's answers to its users (the contract's envelopes) and its admin page.
GATEWAY_UNAUTHORIZED = (
    "A JupyterHub API token with access to this service is needed as the Bearer "
    "(Authorization: Bearer <token>)."
)
GATEWAY_NOT_FOUND = "No job {request_id!r} of yours is known to this gateway."
GATEWAY_ROUTE_NOT_FOUND = "No endpoint at {path!r} on this gateway."
GATEWAY_BAD_JSON = "The body must be a JSON object of the create fields."
GATEWAY_UNKNOWN_FIELD = (
    "{field}: not a create field; allowed: model, prompt, mediaUrls, aspectRatio, duration, "
    "resolution, webhookUrl, metadata."
)
GATEWAY_BAD_FIELD = "{field}: must be {kind}."
GATEWAY_BAD_IDEMPOTENCY_KEY = (
    "Idempotency-Key: must be 1 to 200 printable characters without spaces."
)
GATEWAY_UNCERTAIN = (
    "The service may or may not have made job for this request ({detail}); it is recorded "
    "and never sent again. Retry with the same Idempotency-Key to learn its outcome."
)
GATEWAY_ALREADY_FINAL = (
    "Job {request_id} is already {status}; only queued or processing jobs can be cancelled."
)
GATEWAY_BUDGET_USER_DAILY = (
    "Your daily budget: this job costs about ${usd:.2f}, but only ${left:.2f} of your "
    "${budget:.2f} for today is left; nothing was sent."
)
GATEWAY_BUDGET_USER_MONTHLY = (
    "Your monthly budget: this job costs about ${usd:.2f}, but only ${left:.2f} of your "
    "${budget:.2f} for this month is left; nothing was sent."
)
GATEWAY_BUDGET_TEAM_DAILY = (
    "The team's daily budget: this job costs about ${usd:.2f}, but only ${left:.2f} of the "
    "team's ${budget:.2f} for today is left; nothing was sent."
)
GATEWAY_BUDGET_TEAM_MONTHLY = (
    "The team's monthly budget: this job costs about ${usd:.2f}, but only ${left:.2f} of the "
    "team's ${budget:.2f} for this month is left; nothing was sent."
)
GATEWAY_WEBHOOK_UNSIGNED = (
    "Webhook refused: this gateway has no webhook secret (c.SeedanceGateway.webhook_secret)."
)
GATEWAY_MEDIA_OFF = (
    "This gateway publishes no media: it has no public_url (c.SeedanceGateway.public_url)."
)
GATEWAY_MEDIA_NAME = (
    "media: the path must be the content's SHA-256 and extension ({expected}), not {name!r}."
)
GATEWAY_MEDIA_UNKNOWN = "media: this gateway holds no {name!r}; PUT its content first."
# Reference media (``--media``, ``media=``): each refusal is one INVALID_FIELD line
# whose field is ``media`` and whose value names the reference as the user gave it.
MEDIA_KINDS_ALLOWED = (
    "PNG, JPEG, WebP, GIF or BMP images, MP4 or MOV videos, MP3 or WAV audio"
)
ALLOWED_MEDIA_INPUT = (
    "give an https:// URL, a file path, a PIL image, a NumPy HxWx3 or HxWx4 uint8 array, "
    "bytes, a finished job or last-frame:REQUEST_ID"
)
ALLOWED_MEDIA_MISSING = "no such file (paths are relative to the notebook's folder {folder})"
ALLOWED_MEDIA_CONTENT = "its content is not one of " + MEDIA_KINDS_ALLOWED
ALLOWED_MEDIA_EMPTY = "it is empty; " + ALLOWED_MEDIA_CONTENT
ALLOWED_MEDIA_ARRAY = "an array must be HxWx3 (RGB) or HxWx4 (RGBA) uint8 with H, W > 0"
ALLOWED_MEDIA_TOO_BIG = (
    "it is {size_mb:.1f} MB; {kind} references may be at most {limit_mb:g} MB "
    "(the media_max_{kind}_mb setting)"
)
ALLOWED_MEDIA_REFERENCES = "give at most {maximum} references (images, videos and audio together)"
TOO_MANY_REFERENCES = "media: you gave {count}; {allowed}."
ALLOWED_MEDIA_UNREACHABLE = (
    "the service cannot fetch it ({why}); give the file itself (its path, or the image) "
    "and it is published through media_store or the Jupyter server's public_url"
)
MEDIA_WHY_LOCAL = "its host is this machine or a private network"
MEDIA_WHY_JUPYTER = "it is this Jupyter server's own URL, which needs a login"
ALLOWED_MEDIA_NO_STORE = (
    "nothing can publish it for the service at {service}: set media_store "
    "(env SEEDANCE_MEDIA_STORE, e.g. s3://bucket/prefix) with media_store_endpoint "
    "(env SEEDANCE_MEDIA_ENDPOINT) for R2/MinIO, or the Jupyter server's public_url"
)
ALLOWED_MEDIA_JOB_UNFINISHED = (
    "job {request_id} is {status}; only a succeeded job's video can be used"
)
ALLOWED_MEDIA_JOB_NO_VIDEO = "job {request_id}'s video could not be downloaded ({detail})"
ALLOWED_MEDIA_NO_AV = "reading a frame needs PyAV: pip install 'seedance-jupyter[emulator]'"
ALLOWED_MEDIA_STORE = "the media store {store} refused it ({detail})"
MEDIA_S3_MISSING = "media_store {store} needs boto3: pip install 'seedance-jupyter[s3]'"
ALLOWED_MEDIA_STORE_URI = "media_store must look like s3://bucket/prefix"
MEDIA_URL_TTL_INVALID = (
    "media_url_ttl: {value:g} is not allowed; give {low:g} to {high:g} seconds (7 days)"
)
