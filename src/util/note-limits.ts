// The sizes SPEC 8 sets for a git note, for the two places that check them: tracking's note writing
// (every note) and the SBOM note store (which checks first, before a slow schema validation, and
// splits a larger document into parts the warning size at most).

/** A note larger than this slows down every fetch of its notes ref: it warns. */
export const NOTE_WARN_BYTES = 10 * 1024 * 1024;
/** A note larger than this is refused with exit 2, nothing written. */
export const NOTE_MAX_BYTES = 50 * 1024 * 1024;
