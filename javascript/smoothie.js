// Smoothie: read and write A1111's prompt box for the script's Preview and copy-to-prompt buttons.
// Only smoothie-prefixed globals.

function smoothiePromptArea(tab) {
    return gradioApp().querySelector("#" + tab + "_prompt textarea");
}

// Replaces the first input of a Gradio call with the current prompt of the tab.
function smoothieWithPrompt(tab, args) {
    var area = smoothiePromptArea(tab);
    args[0] = area ? area.value : "";
    return args;
}

// Copies line `n` (1-based) of `text` into the tab's prompt box.
function smoothieCopyLine(tab, n, text) {
    var lines = String(text || "").split("\n").filter(function(l) {
        return l.trim() !== "";
    });
    var index = Math.max(1, Math.min(lines.length, Math.round(Number(n) || 1))) - 1;
    var area = smoothiePromptArea(tab);
    if (area && lines.length) {
        area.value = lines[index];
        updateInput(area);
    }
    return [];
}
