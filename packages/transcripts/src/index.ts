export type { SessionPreviewItem } from "@clawkeep/schema";
export {
  formatArchiveTimestamp,
  listTranscriptArchives,
  type ParsedArchiveName,
  parseArchiveName,
  resolveTranscriptArchivePath,
  TRANSCRIPT_ARCHIVE_REASONS,
  type TranscriptArchive,
  type TranscriptArchiveLookup,
  type TranscriptArchiveReason,
} from "./archive-names.ts";
export {
  type FirstUserMessage,
  type FirstUserMessageOptions,
  readFirstUserMessage,
  readFirstUserMessageFromTranscript,
} from "./first-user-message.ts";
export { DEFAULT_MAX_SCAN_BYTES, type TailScanOptions } from "./line-reader.ts";
export {
  clampPreviewLimits,
  extractMessageText,
  type SessionPreviewRole,
  stripChannelEnvelope,
  toSessionPreviewItem,
  truncatePreviewText,
} from "./message-text.ts";
export {
  type LastTranscriptMessage,
  readLastMessagePreviewFromTranscript,
  readLastTranscriptMessage,
  readSessionPreviewItemsFromTranscript,
  readTranscriptPreview,
  type TailReadInfo,
  type TranscriptPreview,
  type TranscriptPreviewOptions,
} from "./tail-readers.ts";
export {
  type AppendedTranscriptEntry,
  type AppendTranscriptOptions,
  appendTranscriptEntry,
  appendTranscriptMessage,
  createTranscriptEntryId,
  type TranscriptEntryInput,
  type TranscriptMessageInput,
} from "./transcript-append.ts";
export {
  type ArchiveTranscriptOptions,
  archiveTranscript,
  type DeletedTranscript,
  type DeleteTranscriptOptions,
  deleteTranscript,
  restoreTranscriptArchive,
} from "./transcript-archive.ts";
export {
  type CompactTranscriptOptions,
  type CompactTranscriptResult,
  compactTranscript,
} from "./transcript-compact.ts";
export {
  parseTranscriptLockOwner,
  resolveTranscriptLockPath,
  type TranscriptLockOptions,
  type TranscriptLockOwner,
  withTranscriptLock,
} from "./transcript-lock.ts";
export {
  type ReadTranscriptMessagesOptions,
  readTranscriptMessages,
  type TranscriptCompactionMarker,
  type TranscriptMessage,
  type TranscriptMessageStats,
  type TranscriptMessageStream,
} from "./transcript-messages.ts";
export {
  assertRealPathInside,
  type ContainedPath,
  resolveContainedSessionPath,
  resolvePathWithinSessionsDir,
  resolveSessionFilePath,
  resolveSessionTranscriptCandidates,
  resolveSessionTranscriptPath,
  resolveSessionTranscriptPathInDir,
  resolveSessionTranscriptsDir,
  type SessionFilePathOptions,
  type SessionsDirPathOptions,
  type TranscriptDirOptions,
  type TranscriptLocator,
} from "./transcript-paths.ts";
export { findTranscriptFile, type TranscriptSource } from "./transcript-source.ts";
