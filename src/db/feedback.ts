export interface FeedbackStore {
  /** The prediction the feedback is about, or undefined if there is none. */
  prediction(id: string): Promise<{ model: string; version: string } | undefined>;
  existing(predictionId: string): Promise<string | undefined>;
  record(predictionId: string, label: string, ts: number): Promise<void>;
}
