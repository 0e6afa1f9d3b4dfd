"""Request and response bodies. OpenAI's shapes for /v1/models, embeddings, chat and completions;
Cohere/Jina's for /v1/rerank; our own, in the same style, for /v1/ner and /v1/classify.

Unknown fields are ignored (clients send ``user``, ``top_p`` ...), wrong types answer 422.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def ModelName(example: str) -> Any:  # noqa: N802 - reads like the Field it returns
    return Field(min_length=1, max_length=1024, examples=[example],
                 description="A served model name (see GET /v1/models).")


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# ---------------------------------------------------------------- models, health
class ModelCard(_Body):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "localmodels"
    task: str | None = None
    loaded: bool = False


class ModelList(_Body):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Health(_Body):
    status: Literal["ok"] = "ok"
    version: str
    loaded_models: int
    uptime_s: float


# ---------------------------------------------------------------- embeddings
class EmbeddingsRequest(_Body):
    model: str = ModelName("minilm")
    input: str | list[str] = Field(description="A text or a list of texts (token arrays are not accepted).",
                                   examples=[["A man is eating food.", "hello"]])
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1, description="Truncate and renormalise (Matryoshka models).")
    kind: Literal["query", "passage"] | None = Field(
        default=None, description="localmodels extension: the model's query/passage prefix (e5-style).")
    user: str | None = None


class Embedding(_Body):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(_Body):
    prompt_tokens: int
    total_tokens: int


class EmbeddingsResponse(_Body):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


# ---------------------------------------------------------------- chat / completions
class ContentPart(_Body):
    type: str
    text: str | None = None


class ChatMessage(_Body):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None


class JsonSchemaFormat(_Body):
    name: str = "response"
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Body):
    type: Literal["text", "json_object", "json_schema"] = "text"
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(_Body):
    include_usage: bool = False


class _GenerationParams(_Body):
    model: str = ModelName("smollm2-135m-instruct")
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    seed: int | None = None
    n: int = Field(default=1, ge=1, le=1, description="Only one choice per request.")
    user: str | None = None


class ChatCompletionRequest(_GenerationParams):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    response_format: ResponseFormat | None = None
    logprobs: bool = False
    top_logprobs: int | None = Field(default=None, ge=0, le=20, description="Alternatives per token (logprobs).")


class CompletionRequest(_GenerationParams):
    prompt: str | list[str]
    max_tokens: int | None = Field(default=16, ge=0, description="0 only with echo: score the prompt.")
    response_format: ResponseFormat | None = Field(default=None, description="localmodels extension.")
    logprobs: int | None = Field(default=None, ge=0, le=20, description="Alternatives per token (0: the "
                                 "chosen token's log-probability only).")
    echo: bool = Field(default=False, description="Return the prompt before the completion (with its "
                       "tokens' log-probabilities when logprobs is set).")


class Usage(_Body):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(_Body):
    role: Literal["assistant"] = "assistant"
    content: str | None


class TopLogprob(_Body):
    token: str
    logprob: float
    bytes: list[int] | None = None


class TokenLogprobItem(TopLogprob):
    top_logprobs: list[TopLogprob] = Field(default_factory=list)


class ChatLogprobs(_Body):
    content: list[TokenLogprobItem] | None = None
    refusal: list[TokenLogprobItem] | None = None


class ChatChoice(_Body):
    index: int
    message: AssistantMessage
    finish_reason: str | None
    logprobs: ChatLogprobs | None = None


class ChatCompletion(_Body):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage


class CompletionLogprobs(_Body):
    tokens: list[str]
    token_logprobs: list[float | None]
    top_logprobs: list[dict[str, float] | None]
    text_offset: list[int]


class CompletionChoice(_Body):
    index: int
    text: str
    finish_reason: str | None
    logprobs: CompletionLogprobs | None = None


class Completion(_Body):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage


# ---------------------------------------------------------------- rerank (Cohere / Jina)
class RerankDocument(_Body):
    text: str


class RerankRequest(_Body):
    model: str = ModelName("ms-marco-minilm")
    query: str = Field(min_length=1)
    documents: list[str | RerankDocument] = Field(min_length=1)
    top_n: int | None = Field(default=None, ge=1)
    return_documents: bool = False


class RerankHit(_Body):
    index: int
    relevance_score: float
    document: RerankDocument | None = None


class RerankUsage(_Body):
    total_tokens: int


class RerankResponse(_Body):
    id: str
    model: str
    results: list[RerankHit]
    usage: RerankUsage


# ---------------------------------------------------------------- ner
class NerRequest(_Body):
    model: str = Field(default="spacy-en-sm", min_length=1, max_length=1024, examples=["spacy-en-sm"])
    input: str | list[str] = Field(examples=["Barack Obama visited Paris in 2015."])
    labels: list[str] | None = Field(default=None, description="Zero-shot NER models: the entity types to find.")
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)


class EntityOut(_Body):
    text: str
    label: str
    start: int
    end: int
    score: float


class NerResult(_Body):
    object: Literal["ner"] = "ner"
    index: int
    entities: list[EntityOut]


class NerResponse(_Body):
    object: Literal["list"] = "list"
    model: str
    data: list[NerResult]


# ---------------------------------------------------------------- classify (zero-shot)
class ClassifyRequest(_Body):
    model: str = Field(default="minilm", min_length=1, max_length=1024, examples=["minilm"])
    input: str | list[str] = Field(examples=["My kitten sleeps on the sofa."])
    labels: list[str] = Field(min_length=1, examples=[["pets", "finance"]])
    method: Literal["embedding", "nli", "llm"] = "embedding"
    multi_label: bool = False
    hypothesis_template: str = Field(default="This text is about {}.", max_length=1024)
    descriptions: dict[str, str] | None = None


class ClassificationOut(_Body):
    object: Literal["classification"] = "classification"
    index: int
    label: str
    score: float
    scores: dict[str, float]
    labels: list[str] = Field(default_factory=list, description="multi_label: every label over the threshold")


class ClassifyResponse(_Body):
    object: Literal["list"] = "list"
    model: str
    data: list[ClassificationOut]


class ErrorDetail(_Body):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(_Body):
    error: ErrorDetail
