from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("verify-email/resend/", views.resend_verification, name="resend_verification"),
    path("verify-email/<str:token>/", views.verify_email, name="verify_email"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", views.password_reset_complete, name="password_reset_complete"),
    path("invite/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("orgs/new/", views.create_organization, name="create_organization"),
    # orgs/<id>/ (org_home), the organisation's overview, is the uptime dashboard's headline: monitoring.urls.
    path("orgs/<int:org_id>/members/", views.members, name="members"),
    path("orgs/<int:org_id>/members/invite/", views.invite_member, name="invite_member"),
    path(
        "orgs/<int:org_id>/members/<int:membership_id>/remove/",
        views.remove_member,
        name="remove_member",
    ),
    path(
        "orgs/<int:org_id>/invitations/<int:invitation_id>/cancel/",
        views.cancel_invitation,
        name="cancel_invitation",
    ),
    # The key list (orgs/<id>/keys/) is routed by monitoring.key_views, which adds each key's spend.
    path("orgs/<int:org_id>/keys/<int:key_id>/revoke/", views.key_revoke, name="key_revoke"),
    path("orgs/<int:org_id>/limits/", views.organization_limits, name="organization_limits"),
    path("orgs/<int:org_id>/limits/timezone/", views.organization_timezone, name="organization_timezone"),
    path("orgs/<int:org_id>/limits/cors/", views.organization_cors, name="organization_cors"),
]
