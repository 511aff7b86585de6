"""The rules backend's vocabulary: synonyms for the words image prompts are made of, and framings.

Every key is a lower-case word or phrase in one inflected form, and its alternatives are in the same form
("laughing" -> "giggling"), so a substitution never breaks grammar. No key contains a protected word
(number, colour, direction: see :mod:`smoothie.prompt.invariants`), so those always survive; a test checks it.
Alternatives keep the meaning an image model needs: a synonym may change the words, never the picture.
"""

from __future__ import annotations

from functools import lru_cache

_RAW = """
woman: lady | female figure | young woman
women: ladies | female figures
man: gentleman | male figure | guy
men: gentlemen | guys | male figures
girl: young girl | lass | little girl
boy: young boy | lad | little boy
person: figure | individual | human figure
people: figures | crowd of people | folks
child: kid | youngster | little one
children: kids | youngsters | little ones
old woman: elderly woman | aged woman | grandmother
old man: elderly man | aged man | grandfather
cashier: checkout clerk | store clerk | till worker
samurai: feudal swordsman | armored warrior | katana-wielding warrior
astronaut: spacefarer | space explorer | cosmonaut
knight: armored knight | medieval warrior | chevalier
soldier: trooper | serviceman | infantryman
wizard: sorcerer | mage | spellcaster
witch: sorceress | enchantress | spellcaster
robot: android | automaton | mechanical being
cat: feline | kitty | housecat
cats: felines | kitties | housecats
kitten: kitty | young cat | little cat
dog: canine | hound | pup
dogs: canines | hounds | pups
puppy: pup | young dog | little dog
fox: vixen | wild fox | little fox
foxes: vixens | wild foxes | little foxes
bear: bruin | great bear | wild bear
bird: songbird | feathered creature | small bird
birds: songbirds | feathered creatures | small birds
horse: steed | stallion | mount
heron: wading bird | long-legged heron | stately heron
owl: night owl | hooting owl | barn owl
dragon: wyrm | winged dragon | great dragon
pigeons: doves | city pigeons | rock doves
salmon: leaping salmon | river salmon | wild salmon
fish: fishes | swimming fish | river fish
house: home | dwelling | cottage
castle: fortress | citadel | stronghold
lighthouse: beacon tower | coastal lighthouse | light tower
tower: spire | turret | tall tower
city lights: city glow | urban lights | glittering city lights
city: metropolis | town | urban sprawl
street: road | avenue | lane
alley: alleyway | back street | narrow lane
room: chamber | interior | space
kitchen: cookhouse | home kitchen | galley
diner: roadside diner | eatery | café
cafe: café | coffeehouse | bistro
forest: woods | woodland | grove
field: meadow | pasture | open field
meadow: field | grassland | pasture
garden: yard | flower garden | backyard garden
park: public garden | green space | city park
mountain: peak | summit | mountainside
mountain top: summit | mountain peak | high peak
hill: hillside | knoll | slope
river: stream | waterway | brook
lake: pond | mere | still lake
pond: pool | small lake | garden pond
sea: ocean | open sea | waters
ocean: sea | open ocean | deep sea
beach: seashore | shore | coast
desert: dunes | wasteland | arid land
canyon: gorge | ravine | chasm
volcano: volcanic peak | fiery mountain | crater
sky: heavens | skies | firmament
clouds: cloud banks | billowing clouds | cloudscape
storm: tempest | squall | thunderstorm
rain: rainfall | downpour | drizzle
rainy: wet | drizzly | showery
snow: snowfall | fresh snow | powder
fog: mist | haze | murk
misty: foggy | hazy | mist-shrouded
night: nighttime | evening dark | darkness
sunset: dusk | sundown | twilight
sunrise: dawn | daybreak | first light
golden hour: magic hour | late-afternoon glow | warm evening light
window: windowpane | pane | glass window
couch: sofa | settee | lounge
chair: seat | armchair | stool
table: desk | tabletop | counter
desk: workstation | table | writing desk
bed: cot | mattress | bunk
carpet: rug | floor rug | carpeting
towel: beach towel | cloth | linen
bottle: flask | glass bottle | vessel
cup: mug | teacup | cup of tea
coffee: espresso | hot coffee | fresh coffee
cake: gateau | layer cake | sponge cake
candles: tapers | candlesticks | lit candles
apron: smock | pinafore | work apron
cap: hat | baseball cap | peaked cap
coat: overcoat | jacket | long coat
hoodie: hooded sweatshirt | hooded top | pullover hoodie
dress: gown | frock | sundress
helmet: headgear | protective helmet | visor helmet
backpack: rucksack | knapsack | pack
controller: gamepad | joypad | game controller
smartphone: phone | mobile phone | cellphone
bust: sculpted bust | statue head | portrait bust
pedestal: plinth | stand | base
log: fallen log | tree trunk | hollow trunk
pipe: tube | warp pipe | conduit
train: locomotive | railway train | engine
car: automobile | vehicle | motorcar
boat: vessel | ship | small boat
balloons: party balloons | floating balloons | air balloons
flowers: blossoms | blooms | petals
sunflower field: field of sunflowers | sunflower meadow | sunflower patch
cherry blossoms: sakura | cherry flowers | blossoming cherry petals
trees: woods | tall trees | timber
tree: leafy tree | lone tree | tall tree
grass: lawn | turf | greensward
fire: fireplace | hearth | crackling fire
light: glow | illumination | radiance
lights: glowing lights | illuminations | lamps
lighting: illumination | light | lighting setup
warm light: soft warm glow | cozy lighting | amber glow
dim: dusky | low-lit | shadowy
sitting: seated | perched | resting
standing: upright | positioned | stationed
walking: strolling | wandering | ambling
running: sprinting | dashing | racing
jumping: leaping | springing | hopping
lying: lounging | reclining | resting
sleeping: dozing | asleep | napping
meditating: in meditation | contemplating | deep in meditation
laughing: giggling | chuckling | beaming with laughter
smiling: grinning | beaming | with a smile
crying: weeping | sobbing | in tears
drinking: sipping | enjoying | having
eating: munching | dining on | feasting on
reading: perusing | poring over | browsing
holding: grasping | clutching | carrying
carrying: hauling | bearing | lugging
wearing: dressed in | clad in | sporting
looking: gazing | peering | staring
looking at: gazing at | staring at | peering at
catching: snatching | grabbing | seizing
feeding: giving food to | tossing crumbs to | nourishing
knitting: doing needlework | working yarn | stitching
falling: drifting down | tumbling | descending
flying: soaring | gliding | in flight
floating: drifting | hovering | bobbing
riding: mounted on | astride | seated on
playing: toying | frolicking | at play
dancing: twirling | swaying | waltzing
fighting: battling | dueling | clashing
tired: weary | exhausted | worn out
happy: cheerful | joyful | glad
sad: sorrowful | melancholy | downcast
angry: furious | irate | enraged
beautiful: gorgeous | lovely | stunning
old: aged | ancient | weathered
young: youthful | juvenile | fresh-faced
small: little | tiny | petite
big: large | huge | giant
large: big | huge | massive
tall: lofty | towering | high
dark: shadowy | murky | gloomy
bright: vivid | luminous | brilliant
moody: atmospheric | brooding | somber
dramatic: striking | theatrical | intense
cinematic: filmic | movie-like | cinema-style
epic: grand | monumental | sweeping
detailed: intricate | finely detailed | elaborate
highly detailed: intricately detailed | richly detailed | meticulously detailed
realistic: lifelike | true-to-life | naturalistic
photorealistic: lifelike | hyperreal | true-to-life
cozy: snug | comfortable | homely
quiet: peaceful | still | tranquil
calm: serene | tranquil | placid
stormy: tempestuous | turbulent | wild
glass: glass-topped | glassy | transparent
wooden: timber | wood | oaken
hollow: hollowed-out | empty | cavernous
muddy: mud-covered | sludgy | grimy
photo: photograph | snapshot | shot
photograph: photo | snapshot | picture
portrait: likeness | headshot | portrait shot
painting: artwork | canvas | picture
oil painting: oil on canvas | painting in oils | oil artwork
oil on canvas: oil painting | painting in oils | oils on canvas
illustration: drawing | artwork | depiction
drawing: sketch | illustration | rendering
sketch: drawing | study | line drawing
pencil sketch: graphite drawing | pencil drawing | graphite sketch
3d render: cgi render | three-dimensional rendering | computer-generated image
render: rendering | cgi image | digital render
claymation: stop-motion clay animation | clay animation | plasticine animation
product photo: product shot | commercial photograph | catalog photo
studio photo: studio shot | studio photograph | studio portrait
documentary still: documentary frame | documentary shot | film still
still: frame | film still | shot
ad: advertisement | commercial | promotional image
summer: summertime | midsummer | summer season
winter: wintertime | midwinter | winter season
bokeh: soft background blur | shallow depth of field | blurred background
motion blur: movement blur | speed blur | blur of motion
wallpaper: desktop background | backdrop | background image
masterpiece: great work | superb artwork | finest work
best quality: top quality | highest quality | excellent quality
high quality: top quality | fine quality | excellent quality
sharp focus: crisp focus | tack-sharp focus | precise focus
depth of field: shallow focus | focus falloff | selective focus
close-up: closeup | tight shot | close shot
wide shot: wide view | long shot | establishing shot
landscape: scenery | vista | panorama
scene: setting | tableau | view
background: backdrop | setting | surroundings
fur: coat | pelt | hair
skin: surface | peel | outer skin
texture: pattern | surface | grain
pattern: design | motif | print
with: featuring | having | showing
resembles: looks like | mirrors | echoes
looks like: resembles | mirrors | evokes
mimics: imitates | copies | echoes
near: beside | next to | close to
beside: next to | alongside | by
among: amid | amidst | surrounded by
through: across | via | throughout
"""


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """Key (lower case) -> alternatives, parsed once from the table above."""
    table: dict[str, tuple[str, ...]] = {}
    for line in _RAW.strip().splitlines():
        key, _, rest = line.partition(":")
        alts = tuple(a.strip() for a in rest.split("|") if a.strip() and a.strip() != key.strip())
        if alts:
            table[key.strip()] = alts
    return table


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """Every word the thesaurus knows (keys and alternatives): English by construction."""
    words: set[str] = set()
    for key, alts in synonyms().items():
        for phrase in (key, *alts):
            words.update(w for w in phrase.replace("-", " ").split() if w.isalpha())
    return frozenset(words)


# Openings for natural-language prompts. Medium-neutral: none says "photo" or "painting", so the user's own
# medium words decide. "{x}" is the subject phrase; a bare "{x}" keeps the prompt's own opening.
FRAMINGS: tuple[str, ...] = (
    "{x}",
    "Envision {x}",
    "Picture {x}",
    "Imagine {x}",
    "Visualize {x}",
    "A depiction of {x}",
    "A scene showing {x}",
    "An image of {x}",
    "A view of {x}",
    "A portrayal of {x}",
    "A glimpse of {x}",
    "Here we see {x}",
    "This image shows {x}",
    "The scene: {x}",
    "Captured here, {x}",
    "Shown here is {x}",
    "A composition featuring {x}",
    "A frame showing {x}",
    "Depicted: {x}",
    "Behold {x}",
    "In view, {x}",
    "A tableau of {x}",
    "A vision of {x}",
    "A visual of {x}",
    "Pictured: {x}",
    "A study of {x}",
    "Featuring {x}",
    "Presenting {x}",
    "Think of {x}",
    "Conjure up {x}",
    "Dream up {x}",
    "An interpretation of {x}",
    "A picture of {x}",
    "A representation of {x}",
    "Consider {x}",
    "A moment with {x}",
    "The image captures {x}",
    "What we see: {x}",
    "Focus on {x}",
    "A rendition of {x}",
)

# Tag prompts get a light touch: an optional descriptive lead tag, never one that changes the content.
TAG_LEADS: tuple[str, ...] = ("", "", "", "illustration of", "depiction of", "scene with", "image of", "artwork of")
