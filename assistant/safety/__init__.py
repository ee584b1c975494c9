"""The safety gate: emergency referral, refusal of personal medical advice, or answer."""
