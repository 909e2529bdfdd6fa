/** What a prediction's feedback holds: the right label, a numeric outcome, or both. */
export interface Feedback {
  label: string | null;
  value: number | null;
}

export interface FeedbackStore {
  /** The prediction the feedback is about, or undefined if there is none. */
  prediction(id: string): Promise<{ model: string; version: string } | undefined>;
  existing(predictionId: string): Promise<Feedback | undefined>;
  /**
   * Inserts the feedback, or on an existing row replaces only the fields given (a value
   * sent after the label keeps the label). At least one field must be given.
   */
  record(predictionId: string, fields: Partial<Feedback>, ts: number): Promise<void>;
}
