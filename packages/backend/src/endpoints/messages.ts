/**
 * Every text the default pages show, in one place so that it can be translated: pass a partial
 * replacement as the `messages` option of the page renderer.
 * @module
 */

/** Page titles, labels, buttons and notices of the default pages. */
export const defaultMessages = Object.freeze({
  // Titles
  loginTitle: "Log in",
  logoutTitle: "Log out",
  signupTitle: "Create an account",
  loginFactor2Title: "Enter your code",
  configureFactor2Title: "Set up two-factor authentication",
  changeFactor2Title: "Change two-factor authentication",
  factor2Title: "Confirm it's you",
  changePasswordTitle: "Change password",
  updateUserTitle: "Your details",
  deleteUserTitle: "Delete account",
  verifyEmailTitle: "Email verification",
  emailVerifiedTitle: "Email verified",
  requestPasswordResetTitle: "Forgot your password?",
  resetPasswordTitle: "Choose a new password",
  errorTitle: "Something went wrong",
  // Field labels
  username: "Username",
  email: "Email",
  password: "Password",
  repeatPassword: "Repeat password",
  oldPassword: "Current password",
  newPassword: "New password",
  persist: "Keep me logged in",
  factor2: "Two-factor authentication",
  factor2None: "None",
  code: "Code",
  totpSecret: "Secret key",
  // Buttons and links
  loginButton: "Log in",
  logoutButton: "Log out",
  signupButton: "Create account",
  continueButton: "Continue",
  cancelButton: "Cancel",
  saveButton: "Save",
  deleteButton: "Delete my account",
  sendLinkButton: "Send reset link",
  signupLink: "Create an account",
  forgotPasswordLink: "Forgot your password?",
  loginLink: "Log in",
  homeLink: "Home",
  // Notices
  csrfHelp: "This form is protected against cross-site requests.",
  totpInstructions:
    "Scan this QR code with your authenticator app, or enter the secret key, then type the 6-digit code it shows.",
  codeSentInstructions: "We sent you a code. Enter it below.",
  emailVerificationSent: "We sent you an email. Follow the link in it to verify your address.",
  passwordResetSent: "If an account uses that address, we sent it a link to reset the password.",
  passwordChanged: "Your password was changed.",
  detailsSaved: "Your details were saved.",
  emailChangePending: "We sent a link to your new address. It takes effect once you follow it.",
  accountDeleted: "Your account was deleted.",
  loggedOut: "You are logged out.",
  deleteUserWarning: "This deletes your account and everything in it. It cannot be undone.",
  passwordResetDone: "Your password was reset.",
  factor2Removed: "Two-factor authentication was turned off.",
});

/** The message keys of the default pages. */
export type Messages = { [K in keyof typeof defaultMessages]: string };
