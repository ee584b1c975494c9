"""exoqa inside other frameworks: retriever adapters for LangChain and LlamaIndex (optional extras).

    pip install 'exoqa[langchain]'     from assistant.integrations.langchain import ExoqaRetriever
    pip install 'exoqa[llamaindex]'    from assistant.integrations.llama_index import ExoqaRetriever

Both go through `Assistant.ask`, so the safety gate decides first; see `gated` for what they return.
"""
