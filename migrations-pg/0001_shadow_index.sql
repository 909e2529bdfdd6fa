DROP INDEX "predictions_model_version_ts";--> statement-breakpoint
CREATE INDEX "predictions_shadows" ON "predictions" USING btree ("model","ts") WHERE shadow_of IS NOT NULL;