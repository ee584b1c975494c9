"""Scoring exoqa on question sets: retrieval, answers, safety and latency."""
