"""Text handling shared by every stage: language, normalisation, sentence segmentation, the glossary, tokens."""
