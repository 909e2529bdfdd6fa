ALTER TABLE "feedback" ALTER COLUMN "label" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "feedback" ADD COLUMN "value" double precision;--> statement-breakpoint
ALTER TABLE "feedback" ADD CONSTRAINT "feedback_label_or_value" CHECK (label IS NOT NULL OR value IS NOT NULL);