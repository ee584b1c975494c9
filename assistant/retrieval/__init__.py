"""Finding the passages that answer: embeddings, vector and lexical indexes, fusion, the stored index, the retriever."""
