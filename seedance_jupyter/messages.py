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
ALLOWED_MEDIA_COUNT = "give between 1 and {maximum} media URLs, or none for text-to-video"
ALLOWED_MEDIA_URL = (
    "use a public https:// URL ending in a known extension ({extensions})"
)
ALLOWED_MEDIA_URL_LOOPBACK = (
    "use a public https:// URL (or, with the emulator, a loopback http:// URL) "
    "ending in a known extension ({extensions})"
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
WAIT_TIMEOUT = "Job {request_id} was still {status} after {timeout:g} s."
NETWORK_FAILED = "Could not reach {base_url} ({detail})."
NO_API_KEY = (
    "No API key: set SEEDANCE_API_KEY, or leave both SEEDANCE_API_KEY and "
    "SEEDANCE_BASE_URL unset to use the local emulator."
)
