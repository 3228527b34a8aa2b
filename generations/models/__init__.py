"""The studio's domain, one module per concern; everything is importable from here."""

from .board import (  # noqa: F401
    BOARD_NAME_MAX_CHARS,
    TAG_MAX_CHARS,
    Board,
    BoardItem,
    GenerationTag,
    Tag,
)
from .coordination import ApiRateLimit  # noqa: F401
from .generation import (  # noqa: F401
    ACTIVE_STATUSES,
    IN_FLIGHT_REFUSAL,
    IN_FLIGHT_STATUSES,
    POLLED_STATUSES,
    TERMINAL_STATUSES,
    Batch,
    Favourite,
    Generation,
    GenerationEvent,
    GenerationLora,
    GenerationQuerySet,
    ReviewEvent,
    ReviewState,
    Status,
)
from .ledger import (  # noqa: F401
    SUBMIT_KEY_LIFETIME,
    LedgerEntry,
    SubmitKey,
)
from .library import (  # noqa: F401
    SOURCE_LINK_SALT,
    LoraPreset,
    PromptPreset,
    SourceImage,
    SourceImageManager,
    random_media_name,
    source_upload_to,
)
from .note import (  # noqa: F401
    AUTHOR_NAME_MAX_CHARS,
    FRAMES_PER_SECOND,
    NOTE_MAX_CHARS,
    ReviewNote,
)
from .notification import (  # noqa: F401
    CHOOSABLE_KINDS,
    DeliveryStatus,
    EventKind,
    NotificationSettings,
    WebhookDelivery,
)
from .sequence import (  # noqa: F401
    EXPORTING_STATUSES,
    SEQUENCE_SIZES,
    Ending,
    ExportStatus,
    Fit,
    Sequence,
    SequenceClip,
    SequenceQuerySet,
    Transition,
)
from .share import (  # noqa: F401
    SHARE_TOKEN_SALT,
    GuestDecision,
    Share,
    ShareEvent,
    ShareEventKind,
    ShareItem,
    ShareKind,
)
from .team import (  # noqa: F401
    ApiToken,
    Budget,
    StudioState,
)
