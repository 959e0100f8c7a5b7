/** The listening core's public surface (issue #9): a pure analyzer over mono sample blocks. */
export { Analyzer, type AnalyzerFrames, DEFAULT_ONSET, DEFAULT_PITCH, DEFAULT_TEMPO } from './analyzer.js';
export { hzOf, midiOf, type NoteOf, noteName, noteOf } from './note.js';
export type { TempoEstimate } from './tempo.js';
export type {
  AnalysisEvent,
  AnalyzerOptions,
  OnsetEvent,
  OnsetOptions,
  PitchEvent,
  PitchOptions,
  TempoEvent,
  TempoOptions,
} from './types.js';
